import { h, formatBytes, announce } from '../dom.js';

/**
 * Upload box: file picker or drag and drop, progress bar, and the validator's message when the module is refused.
 * @param {{ api: import('../api.js').Api, app: string, onUploaded: (version: object) => void }} options
 */
export function uploadPanel({ api, app, onUploaded }) {
  const fileInput = h('input', {
    id: 'module-file',
    class: 'file-input',
    type: 'file',
    accept: '.wasm,.tar.gz,.tgz,.tar,application/wasm,application/gzip,application/x-tar',
    'aria-describedby': 'module-hint',
    testid: 'module-file',
  });
  const activate = h('input', { id: 'activate-upload', type: 'checkbox', checked: true, testid: 'activate-upload' });
  const progressBar = h('progress', { id: 'upload-progress-bar', max: '100', value: '0' });
  const progressLabel = h('label', { for: 'upload-progress-bar' }, 'Uploading…');
  const progressText = h('span', { class: 'mono', 'aria-hidden': 'true' }, '0%');
  const progress = h('div', { class: 'progress', testid: 'upload-progress', hidden: true },
    progressLabel, h('div', { class: 'progress-row' }, progressBar, progressText));
  const result = h('div', { 'aria-live': 'polite' });
  const zone = h('div', { class: 'dropzone', testid: 'dropzone' },
    h('p', null, 'Drop a ', h('code', null, '.wasm'), ' module or a ', h('code', null, '.tar.gz'), ' bundle here, or'),
    fileInput,
    h('label', { for: 'module-file', class: 'button' }, 'Choose a file…'),
    h('p', { id: 'module-hint', class: 'hint' }, 'A WASI preview 1 command module (_start) that writes a CGI response, or a Spin app directory packed with tar czf (spin.toml at its root, WAGI components, static files). It is validated before it goes live.'));

  let busy = false;

  async function upload(file) {
    if (busy || !file) {
      return;
    }
    busy = true;
    fileInput.disabled = true;
    result.replaceChildren();
    progressLabel.textContent = `Uploading ${file.name} (${formatBytes(file.size)})`;
    progressBar.value = 0;
    progressText.textContent = '0%';
    progress.hidden = false;
    let validating = null;
    const { promise } = api.uploadVersion(app, file, {
      activate: activate.checked,
      onProgress: (loaded, total) => {
        const percent = total > 0 ? Math.round((loaded / total) * 100) : 0;
        progressBar.value = percent;
        progressText.textContent = `${percent}%`;
        if (percent >= 100 && !validating) {
          // The server validates and compiles after the last byte (a large component takes up to a minute): count
          // the seconds so a long compile reads as progress, not a hang.
          const since = Date.now();
          const show = () => {
            const seconds = Math.round((Date.now() - since) / 1000);
            progressLabel.textContent = `Validating ${file.name}… ${seconds} s (compiling; large components take up to a minute)`;
          };
          show();
          validating = setInterval(show, 1000);
        }
      },
    });
    try {
      const version = await promise;
      progressBar.value = 100;
      progressText.textContent = '100%';
      const message = `${file.name} uploaded as version ${version.number} (${formatBytes(version.size)})${version.active ? ', now live' : ''}.`;
      result.replaceChildren(h('p', { class: 'notice notice-success', testid: 'upload-result' }, message));
      announce(message);
      onUploaded(version);
    } catch (failure) {
      progress.hidden = true;
      result.replaceChildren(h('div', { class: 'notice notice-error', role: 'alert', testid: 'upload-error' },
        h('strong', null, `${file.name} was refused (${failure.status || 'no answer'} ${failure.title ?? ''})`.trim()),
        h('p', { class: 'detail-text', testid: 'upload-error-detail' }, failure.detail ?? failure.message)));
    } finally {
      clearInterval(validating);
      busy = false;
      fileInput.disabled = false;
      // Picking the same file again must fire 'change' again.
      fileInput.value = '';
    }
  }

  fileInput.addEventListener('change', () => upload(fileInput.files?.[0]));

  // Drag and drop: the whole zone accepts a dropped file.
  let depth = 0;
  zone.addEventListener('dragenter', (event) => {
    event.preventDefault();
    depth++;
    zone.classList.add('is-dragover');
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) {
      zone.classList.remove('is-dragover');
    }
  });
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove('is-dragover');
    const files = event.dataTransfer?.files;
    if (files && files.length > 1) {
      result.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', testid: 'upload-error' }, `Drop one module or bundle at a time (${files.length} files were dropped).`));
      return;
    }
    upload(files?.[0]);
  });

  return h('section', { class: 'panel', 'aria-labelledby': 'deploy-heading', testid: 'deploy-panel' },
    h('h2', { id: 'deploy-heading' }, 'Deploy a new version'),
    zone,
    h('div', { class: 'upload-options' },
      h('label', { class: 'checkbox', for: 'activate-upload' }, activate, 'Make it live after upload')),
    progress,
    result);
}
