import { expect } from 'vitest';

export interface EventStream<T> {
  /** every event received so far, in order */
  events: { event: string; data: T }[];
  /** settles when the server ends the stream or `stop` aborts it */
  ended: Promise<void>;
  stop(): void;
}

/** Opens a real server-sent-events connection (bearer token) and records every event until it ends or is stopped. */
export async function openEventStream<T = unknown>(url: string, token: string): Promise<EventStream<T>> {
  const ctl = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const events: EventStream<T>['events'] = [];
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as T });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, ended, stop: () => ctl.abort() };
}
