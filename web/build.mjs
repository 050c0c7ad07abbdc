#!/usr/bin/env node
// Assembles the dashboard (web/src) into the control plane's static files (src/Platform.ControlPlane/wwwroot, or the
// folder after --out). The control plane's build runs it (an MSBuild target), so the output is never committed.
// Node 20, no dependencies. Deterministic: the same sources always give the same bytes; `--check` exits 1 with a list of
// differences when the output folder is stale.
//
// What it adds to a plain copy:
// - ?v=<content hash> on every CSS/JS URL (an import map covers module-to-module imports), so a browser never mixes
//   files of two dashboard versions from its cache;
// - a Content-Security-Policy <meta> that allows only this origin's scripts plus the import map, by its hash.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.join(webDir, 'src');
const outAt = process.argv.indexOf('--out');
const outDir = outAt > 0 && process.argv[outAt + 1]
  ? path.resolve(process.argv[outAt + 1])
  : path.resolve(webDir, '..', 'src', 'Platform.ControlPlane', 'wwwroot');
const check = process.argv.includes('--check');

/** Relative paths ('/'-separated) of every file under dir, sorted so output order never depends on the file system. */
function listFiles(dir, prefix = '') {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { withFileTypes: true })
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? listFiles(path.join(dir, entry.name), rel) : [rel];
    });
}

const contentHash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 12);

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

/** Replaces exactly one occurrence of needle, so a renamed asset cannot silently go unversioned. */
function replaceOnce(text, needle, replacement, file) {
  const first = text.indexOf(needle);
  if (first < 0 || text.indexOf(needle, first + needle.length) >= 0) {
    fail(`${file} must contain '${needle}' exactly once.`);
  }
  return text.slice(0, first) + replacement + text.slice(first + needle.length);
}

function assemble() {
  const files = listFiles(srcDir);
  if (!files.includes('index.html')) {
    fail(`no index.html in ${srcDir}`);
  }
  const output = new Map();
  const versioned = new Map();
  for (const rel of files) {
    const bytes = fs.readFileSync(path.join(srcDir, rel));
    if (rel !== 'index.html') {
      output.set(rel, bytes);
    }
    versioned.set(`/${rel}`, `/${rel}?v=${contentHash(bytes)}`);
  }

  const modules = files.filter((rel) => rel.endsWith('.js') && rel !== 'js/main.js');
  const json = JSON.stringify({ imports: Object.fromEntries(modules.map((rel) => [`/${rel}`, versioned.get(`/${rel}`)])) }, null, 2);
  const importMap = `\n${json.split('\n').map((line) => `    ${line}`).join('\n')}\n  `;
  const importMapHash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');

  let html = fs.readFileSync(path.join(srcDir, 'index.html'), 'utf8');
  html = replaceOnce(html, '<!-- build:head -->',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">\n  <script type="importmap">${importMap}</script>`, 'index.html');
  html = replaceOnce(html, 'href="/css/app.css"', `href="${versioned.get('/css/app.css')}"`, 'index.html');
  html = replaceOnce(html, 'src="/js/main.js"', `src="${versioned.get('/js/main.js')}"`, 'index.html');
  output.set('index.html', Buffer.from(html, 'utf8'));
  return output;
}

const expected = assemble();
const existing = new Set(listFiles(outDir));

if (check) {
  const problems = [];
  for (const [rel, bytes] of expected) {
    const target = path.join(outDir, rel);
    if (!existing.has(rel)) {
      problems.push(`missing: ${rel}`);
    } else if (!fs.readFileSync(target).equals(bytes)) {
      problems.push(`differs: ${rel}`);
    }
  }
  for (const rel of existing) {
    if (!expected.has(rel)) {
      problems.push(`not from web/src: ${rel}`);
    }
  }
  if (problems.length > 0) {
    console.error(`wwwroot is out of date with web/src; run 'node web/build.mjs'.\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`wwwroot matches web/src (${expected.size} files).`);
} else {
  let written = 0;
  for (const [rel, bytes] of expected) {
    const target = path.join(outDir, rel);
    // Unchanged files are left alone so their timestamps (and incremental builds) stay put.
    if (existing.has(rel) && fs.readFileSync(target).equals(bytes)) {
      continue;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, bytes);
    written++;
  }
  let removed = 0;
  for (const rel of existing) {
    if (!expected.has(rel)) {
      fs.rmSync(path.join(outDir, rel));
      removed++;
    }
  }
  // Drop folders emptied by removals, deepest first.
  const dirs = [...new Set([...existing].map((rel) => path.dirname(rel)).filter((d) => d !== '.'))].sort((a, b) => b.length - a.length);
  for (const dir of dirs) {
    const full = path.join(outDir, dir);
    if (fs.existsSync(full) && fs.readdirSync(full).length === 0) {
      fs.rmdirSync(full);
    }
  }
  console.log(`wwwroot: ${expected.size} files, ${written} written, ${removed} removed (${path.relative(process.cwd(), outDir) || outDir}).`);
}
