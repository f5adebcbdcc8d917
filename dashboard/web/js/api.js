// The API client: the session token lives in sessionStorage (gone when the tab closes) and goes
// out as a bearer header, never in a URL, so it stays out of logs and history.

const KEY = 'driftwatch.session';

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return null;
  }
}

export function setSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const s = session();
  const headers = {};
  if (s) headers.authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && s) onUnauthorized();
    throw new ApiError(res.status, data?.code ?? data?.error?.code ?? 'HTTP', data?.detail ?? data?.error?.message ?? res.statusText);
  }
  return data;
}

export const qs = (params) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

/**
 * Server-sent events over fetch (EventSource cannot send an authorization header): parses the
 * event stream (WHATWG HTML, "Parsing an event stream") and reconnects after `retry` ms.
 * Returns a function that stops it.
 */
export function stream(path, onEvent, onState = () => {}) {
  const ctl = new AbortController();
  let retry = 3000;
  let stopped = false;
  (async () => {
    while (!stopped) {
      try {
        const s = session();
        if (!s) return;
        const res = await fetch(path, { headers: { authorization: `Bearer ${s.token}`, accept: 'text/event-stream' }, signal: ctl.signal });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream ${res.status}`);
        onState('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const c = line.indexOf(':');
              const field = c < 0 ? line : line.slice(0, c);
              const val = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
              if (field === 'event') event = val;
              else if (field === 'data') data.push(val);
              else if (field === 'retry' && /^\d+$/.test(val)) retry = Number(val);
            }
            if (data.length) {
              try {
                onEvent(event, JSON.parse(data.join('\n')));
              } catch {
                // a malformed event is skipped; the next one may be fine
              }
            }
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      onState('offline');
      await new Promise((r) => setTimeout(r, retry));
    }
  })();
  return () => {
    stopped = true;
    ctl.abort();
  };
}
