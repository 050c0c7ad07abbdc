// Draws /stats as inline SVG: requests per minute (bars, errors overlaid) above p50/p99 latency (lines).
// Drawn at the container's real pixel width so labels stay readable on narrow screens.
import { formatClock, svg } from './dom.js';

const PAD = { left: 46, right: 14, top: 22, bottom: 26 };
const PANEL_HEIGHT = 92;
const PANEL_GAP = 40;

/** Smallest 1/2/5 x 10^k at or above value, so axis labels are round numbers. */
export function niceMax(value) {
  if (!(value > 0)) {
    return 1;
  }
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const fraction = value / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

function formatTick(value) {
  if (value === 0) {
    return '0';
  }
  if (value >= 1000) {
    return `${+(value / 1000).toFixed(1)}k`;
  }
  return Number.isInteger(value) ? String(value) : String(+value.toFixed(value < 1 ? 2 : 1));
}

function axis(group, { top, max, width, unit }) {
  for (const fraction of [0, 0.5, 1]) {
    const y = top + PANEL_HEIGHT - fraction * PANEL_HEIGHT;
    group.append(
      svg('line', { class: 'grid-line', x1: PAD.left, x2: width - PAD.right, y1: y, y2: y }),
      svg('text', { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end' }, formatTick(max * fraction) + (fraction === 1 && unit ? ` ${unit}` : '')));
  }
}

/** Path data for a line that breaks where a minute had no requests (null), so gaps are not drawn as zero. */
function linePath(values, x, y) {
  let d = '';
  let open = false;
  const isolated = [];
  values.forEach((value, i) => {
    if (value === null || value === undefined) {
      open = false;
      return;
    }
    d += `${open ? 'L' : 'M'}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
    const prevMissing = i === 0 || values[i - 1] === null || values[i - 1] === undefined;
    const nextMissing = i === values.length - 1 || values[i + 1] === null || values[i + 1] === undefined;
    if (prevMissing && nextMissing) {
      isolated.push(i);
    }
    open = true;
  });
  return { d, isolated };
}

function build(stats, width) {
  const points = stats.points ?? [];
  const n = Math.max(points.length, 1);
  const height = PAD.top + PANEL_HEIGHT + PANEL_GAP + PANEL_HEIGHT + PAD.bottom;
  const plotWidth = width - PAD.left - PAD.right;
  const step = plotWidth / n;
  const x = (i) => PAD.left + i * step;
  const centre = (i) => x(i) + step / 2;

  const root = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'chart-title',
  }, svg('title', { id: 'chart-title' }, describe(stats)));

  // Requests per minute.
  const requestsTop = PAD.top;
  // At least 0-1-2 so an idle hour does not get half-request ticks.
  const maxRequests = Math.max(2, niceMax(Math.max(0, ...points.map((p) => p.requests))));
  const requests = svg('g', { testid: 'chart-requests' });
  requests.append(svg('text', { class: 'panel-label', x: PAD.left, y: requestsTop - 8 }, 'Requests per minute'));
  axis(requests, { top: requestsTop, max: maxRequests, width });
  const barWidth = Math.max(1, step * 0.7);
  points.forEach((p, i) => {
    if (p.requests <= 0) {
      return;
    }
    const barHeight = Math.max(1.5, (p.requests / maxRequests) * PANEL_HEIGHT);
    const bar = svg('rect', {
      class: 'bar',
      x: (x(i) + (step - barWidth) / 2).toFixed(1),
      y: (requestsTop + PANEL_HEIGHT - barHeight).toFixed(1),
      width: barWidth.toFixed(1),
      height: barHeight.toFixed(1),
      rx: Math.min(2, barWidth / 3).toFixed(1),
    }, svg('title', null, `${formatClock(new Date(p.minute))}: ${p.requests} requests, ${p.errors} errors`));
    requests.append(bar);
    if (p.errors > 0) {
      const errorHeight = Math.max(1.5, (p.errors / maxRequests) * PANEL_HEIGHT);
      requests.append(svg('rect', {
        class: 'bar-errors',
        x: (x(i) + (step - barWidth) / 2).toFixed(1),
        y: (requestsTop + PANEL_HEIGHT - errorHeight).toFixed(1),
        width: barWidth.toFixed(1),
        height: errorHeight.toFixed(1),
      }, svg('title', null, `${formatClock(new Date(p.minute))}: ${p.errors} errors`)));
    }
  });
  if (!points.some((p) => p.requests > 0)) {
    requests.append(svg('text', {
      class: 'empty-label', x: PAD.left + plotWidth / 2, y: requestsTop + PANEL_HEIGHT / 2, 'text-anchor': 'middle',
    }, 'No requests in this period'));
  }
  root.append(requests);

  // Latency percentiles.
  const latencyTop = PAD.top + PANEL_HEIGHT + PANEL_GAP;
  const latencies = points.flatMap((p) => [p.p50Ms, p.p99Ms]).filter((v) => typeof v === 'number');
  const maxLatency = niceMax(Math.max(0, ...latencies));
  const latency = svg('g', { testid: 'chart-latency' });
  latency.append(svg('text', { class: 'panel-label', x: PAD.left, y: latencyTop - 8 }, 'Latency p50 / p99'));
  axis(latency, { top: latencyTop, max: maxLatency, width, unit: 'ms' });
  const y = (value) => latencyTop + PANEL_HEIGHT - (Math.min(value, maxLatency) / maxLatency) * PANEL_HEIGHT;
  for (const [key, name] of [['p99Ms', 'p99'], ['p50Ms', 'p50']]) {
    const { d, isolated } = linePath(points.map((p) => p[key]), centre, y);
    if (d) {
      latency.append(svg('path', { class: `line-${name}`, d }));
    }
    for (const i of isolated) {
      latency.append(svg('circle', { class: `dot-${name}`, cx: centre(i).toFixed(1), cy: y(points[i][key]).toFixed(1), r: 3 },
        svg('title', null, `${formatClock(new Date(points[i].minute))}: ${name} ${formatTick(points[i][key])} ms`)));
    }
  }
  root.append(latency);

  // Time axis: first minute, middle, last.
  if (points.length > 0) {
    const baseline = height - 6;
    const marks = [[0, 'start'], [Math.floor((points.length - 1) / 2), 'middle'], [points.length - 1, 'end']];
    for (const [i, anchor] of marks) {
      const at = anchor === 'start' ? x(i) : anchor === 'end' ? x(i) + step : centre(i);
      root.append(svg('text', { x: at.toFixed(1), y: baseline, 'text-anchor': anchor }, formatClock(new Date(points[i].minute))));
    }
  }
  return root;
}

/** One sentence that says what the chart shows, for its accessible name and the summary line. */
export function describe(stats) {
  const points = stats.points ?? [];
  const busiest = Math.max(0, ...points.map((p) => p.requests));
  const p99s = points.map((p) => p.p99Ms).filter((v) => typeof v === 'number');
  const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;
  let text = `${plural(stats.totalRequests, 'request')} and ${plural(stats.totalErrors, 'error')} in the last ${stats.minutes} minutes`;
  if (busiest > 0) {
    text += `; busiest minute ${busiest} requests`;
  }
  if (p99s.length > 0) {
    text += `; p99 latency up to ${formatTick(Math.max(...p99s))} ms`;
  }
  return `${text}.`;
}

/** Keeps a chart drawn inside container; update() with new /stats data, dispose() when leaving the page. */
export function mountChart(container) {
  let data = null;
  let drawnWidth = 0;
  const draw = (force) => {
    const width = Math.max(260, Math.floor(container.clientWidth));
    if (!data || (!force && width === drawnWidth)) {
      return;
    }
    drawnWidth = width;
    container.replaceChildren(build(data, width));
  };
  const observer = new ResizeObserver(() => draw(false));
  observer.observe(container);
  return {
    update(stats) {
      data = stats;
      draw(true);
    },
    dispose() {
      observer.disconnect();
    },
  };
}
