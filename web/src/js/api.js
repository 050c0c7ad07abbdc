// Client for the platform's public REST API (/api/v1). The dashboard calls nothing else, so a script can do all it does.
const BASE = '/api/v1';

/** An API refusal: status plus the problem+json title and detail the control plane sent. */
export class ApiError extends Error {
  constructor(status, title, detail, problem = null) {
    super(detail || title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.problem = problem;
  }
}

function describeValidationErrors(errors) {
  if (!errors || typeof errors !== 'object') {
    return null;
  }
  const lines = Object.entries(errors).flatMap(([field, messages]) =>
    (Array.isArray(messages) ? messages : [messages]).map((m) => (field ? `${field}: ${m}` : String(m))));
  return lines.length > 0 ? lines.join('\n') : null;
}

function errorFromProblem(status, statusText, contentType, text) {
  let problem = null;
  if (text && (contentType ?? '').includes('json')) {
    try {
      problem = JSON.parse(text);
    } catch {
      problem = null;
    }
  }
  const title = problem?.title ?? statusText ?? `HTTP ${status}`;
  const detail = problem?.detail
    ?? describeValidationErrors(problem?.errors)
    ?? `The control plane answered ${status}${statusText ? ` ${statusText}` : ''}.`;
  return new ApiError(status, title, detail, problem);
}

const app = (name) => `/apps/${encodeURIComponent(name)}`;

export class Api {
  /**
   * @param {string} key API key sent as a bearer token.
   * @param {{ onUnauthorized?: (error: ApiError) => void }} options called when the key stops being accepted.
   */
  constructor(key, { onUnauthorized } = {}) {
    this.key = key;
    this.onUnauthorized = onUnauthorized;
  }

  async request(method, path, body, { signal } = {}) {
    const headers = { Authorization: `Bearer ${this.key}`, Accept: 'application/json, application/problem+json' };
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(BASE + path, { method, headers, body: payload, cache: 'no-store', signal });
    } catch (error) {
      if (error?.name === 'AbortError') {
        throw error;
      }
      throw new ApiError(0, 'Network error', `The control plane could not be reached (${error?.message ?? error}).`);
    }
    if (!response.ok) {
      const failure = errorFromProblem(response.status, response.statusText, response.headers.get('content-type'), await response.text());
      if (response.status === 401) {
        this.onUnauthorized?.(failure);
      }
      throw failure;
    }
    return response.status === 204 ? null : response.json();
  }

  /** options.tenant (admins): only that tenant's apps. */
  listApps(options) {
    const query = options?.tenant ? `?tenant=${encodeURIComponent(options.tenant)}` : '';
    return this.request('GET', `/apps${query}`, undefined, options);
  }

  getApp(name, options) {
    return this.request('GET', app(name), undefined, options);
  }

  /** tenant (admins): the tenant the app belongs to; without it, the key's own (an admin's: "default"). */
  createApp(name, tenant) {
    return this.request('POST', '/apps', tenant ? { name, tenant } : { name });
  }

  /** Admin keys only (a tenant key gets 403). */
  listTenants(options) {
    return this.request('GET', '/tenants', undefined, options);
  }

  listKeys(tenant, options) {
    return this.request('GET', `/keys${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`, undefined, options);
  }

  /** body: { name, tenant?, apps?, access?, admin? }; the answer holds the secret, the only time it is shown. */
  createKey(body) {
    return this.request('POST', '/keys', body);
  }

  revokeKey(name) {
    return this.request('DELETE', `/keys/${encodeURIComponent(name)}`);
  }

  /**
   * Changes an app's settings (PATCH): only the fields given change; variables and allowedOutboundHosts replace the
   * whole set. Resolves with the app as saved.
   */
  updateApp(name, changes) {
    return this.request('PATCH', app(name), changes);
  }

  /** Names (and times) of an app's secrets; values are write-only and never come back. */
  listSecrets(name, options) {
    return this.request('GET', `${app(name)}/secrets`, undefined, options);
  }

  setSecret(name, secret, value) {
    return this.request('PUT', `${app(name)}/secrets/${encodeURIComponent(secret)}`, { value });
  }

  deleteSecret(name, secret) {
    return this.request('DELETE', `${app(name)}/secrets/${encodeURIComponent(secret)}`);
  }

  deleteApp(name) {
    return this.request('DELETE', app(name));
  }

  listVersions(name, options) {
    return this.request('GET', `${app(name)}/versions`, undefined, options);
  }

  activateVersion(name, number) {
    return this.request('POST', `${app(name)}/versions/${encodeURIComponent(number)}/activate`);
  }

  /** One version in full: components, routes, files and digests. */
  version(name, number, options) {
    return this.request('GET', `${app(name)}/versions/${encodeURIComponent(number)}`, undefined, options);
  }

  stats(name, minutes = 60, options) {
    return this.request('GET', `${app(name)}/stats?minutes=${encodeURIComponent(minutes)}`, undefined, options);
  }

  /** The app's log lines, oldest first; params: URLSearchParams with tail, since, stream, version. */
  logs(name, params, options) {
    return this.request('GET', `${app(name)}/logs?${params}`, undefined, options);
  }

  /**
   * Follows the app's log (SSE) with fetch, so the key stays in the Authorization header; onChunk gets the decoded
   * text as it arrives. Resolves when the server ends the stream; rejects with an ApiError for a refusal.
   */
  async followLogs(name, params, { signal, lastEventId, onChunk }) {
    const query = new URLSearchParams(params);
    query.set('follow', 'true');
    const headers = { Authorization: `Bearer ${this.key}`, Accept: 'text/event-stream' };
    if (lastEventId) {
      headers['Last-Event-ID'] = lastEventId;
    }
    let response;
    try {
      response = await fetch(`${BASE}${app(name)}/logs?${query}`, { headers, cache: 'no-store', signal });
    } catch (error) {
      if (error?.name === 'AbortError') {
        throw error;
      }
      throw new ApiError(0, 'Network error', `The control plane could not be reached (${error?.message ?? error}).`);
    }
    if (!response.ok) {
      const failure = errorFromProblem(response.status, response.statusText, response.headers.get('content-type'), await response.text());
      if (response.status === 401) {
        this.onUnauthorized?.(failure);
      }
      throw failure;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    while (true) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      onChunk(value);
    }
  }

  /** Sends a request to the app through a router, via the control plane (a browser cannot call the app host cross-origin). */
  tryApp(name, { method, path, body, headers }) {
    return this.request('POST', `${app(name)}/try`, { method, path, body, headers });
  }

  /**
   * Uploads a module or a Spin bundle (.tar.gz, .tgz, .tar) as multipart/form-data (a 'module' or 'bundle' part,
   * which keeps the file name) with XMLHttpRequest, because fetch cannot report upload progress.
   * @returns {{ promise: Promise<object>, abort: () => void }}
   */
  uploadVersion(name, file, { activate = true, onProgress } = {}) {
    const xhr = new XMLHttpRequest();
    const promise = new Promise((resolve, reject) => {
      xhr.open('POST', `${BASE}${app(name)}/versions${activate ? '' : '?activate=false'}`);
      xhr.setRequestHeader('Authorization', `Bearer ${this.key}`);
      xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
      xhr.upload.addEventListener('progress', (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size));
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText));
          } catch {
            reject(new ApiError(xhr.status, 'Bad response', 'The control plane accepted the upload but its answer was not JSON.'));
          }
          return;
        }
        const failure = errorFromProblem(xhr.status, xhr.statusText, xhr.getResponseHeader('content-type'), xhr.responseText);
        if (xhr.status === 401) {
          this.onUnauthorized?.(failure);
        }
        reject(failure);
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, 'Network error', 'The upload did not reach the control plane.')));
      xhr.addEventListener('abort', () => reject(new ApiError(0, 'Cancelled', 'The upload was cancelled.')));
      const form = new FormData();
      form.append(isBundle(file.name) ? 'bundle' : 'module', file, file.name);
      xhr.send(form);
    });
    return { promise, abort: () => xhr.abort() };
  }
}

/** A Spin-style bundle (tar or tar.gz of the app directory with spin.toml at its root), judged by its file name. */
export function isBundle(fileName) {
  return /\.(tar\.gz|tgz|tar)$/i.test(fileName ?? '');
}
