import { gzipSync } from 'node:zlib';
import { HttpError, InfluxDB, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import type { Logger } from '../../../lib/log.js';

/** What one write attempt of a batch came to; the sink decides what to do next. */
export type WriteOutcome =
  | { readonly kind: 'ok' }
  /** network error, timeout, 429, 5xx: back off and send again */
  | { readonly kind: 'retry'; readonly status: number; readonly error: string; /** ms, from Retry-After */ readonly retryAfterMs?: number }
  /** 400/413 and other client errors: the batch (or a line in it) will never be accepted as is */
  | { readonly kind: 'reject'; readonly status: number; readonly error: string }
  /** 401/403: credentials; nothing else will succeed either */
  | { readonly kind: 'auth'; readonly status: number; readonly error: string };

/** Posts a batch of line-protocol lines (ms precision) and classifies the answer. Never throws. */
export interface LineWriter {
  write(lines: readonly string[]): Promise<WriteOutcome>;
  close(): Promise<void>;
}

/** ms; Retry-After is seconds or an HTTP date (RFC 9110, 10.2.3) */
export function parseRetryAfter(v: string | null | undefined, nowMs: number): number | undefined {
  if (!v) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

export function classify(status: number, error: string, retryAfterMs: number | undefined): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 401 || status === 403) return { kind: 'auth', status, error };
  // 404 is "database not found" on 1.x and "bucket not found" on 2.x: an operator fixes it, the
  // queued readings must wait for that, not be thrown away.
  if (status === 429 || status >= 500 || status === 404 || status === 0) {
    return retryAfterMs === undefined ? { kind: 'retry', status, error } : { kind: 'retry', status, error, retryAfterMs };
  }
  return { kind: 'reject', status, error };
}

export interface V1WriterOptions {
  url: string;
  db: string;
  rp?: string;
  user?: string;
  password?: string;
  gzip: boolean;
  /** ms */
  timeoutMs: number;
}

/** InfluxDB 1.x `/write` (https://docs.influxdata.com/influxdb/v1/tools/api/#write-http-endpoint). */
export function createV1Writer(o: V1WriterOptions): LineWriter {
  const q = new URLSearchParams({ db: o.db, precision: 'ms' });
  if (o.rp) q.set('rp', o.rp);
  const target = `${o.url.replace(/\/+$/, '')}/write?${q.toString()}`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (o.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.user}:${o.password ?? ''}`).toString('base64')}`;
  if (o.gzip) headers['content-encoding'] = 'gzip';
  return {
    async write(lines) {
      const text = lines.join('\n');
      try {
        const res = await fetch(target, { method: 'POST', headers, body: o.gzip ? gzipSync(text) : text, signal: AbortSignal.timeout(o.timeoutMs) });
        const body = res.status === 204 ? '' : await res.text();
        return classify(res.status, body, parseRetryAfter(res.headers.get('retry-after'), Date.now()));
      } catch (err) {
        return { kind: 'retry', status: 0, error: (err as Error).message };
      }
    },
    close: () => Promise.resolve(),
  };
}

export interface V2WriterOptions {
  url: string;
  token: string;
  org: string;
  bucket: string;
  gzip: boolean;
  /** ms */
  timeoutMs: number;
  logger: Logger;
}

/**
 * The v2 write API (/api/v2/write: InfluxDB 2.x, 3.x, 1.8+, VictoriaMetrics) through the official
 * client's WriteApi, used as a transport only: its retries are off (maxRetries 0) because its retry
 * buffer is memory-only and drops lines; the sink and the outbox own retrying. The batch size is
 * above any batch the sink hands over, so WriteApi sends exactly when flush() is called: one call,
 * one request, and flush() rejects with the HttpError we classify. One WriteApi per writer: the
 * sink gives each lane its own writer, so concurrent flushes never mix lines.
 */
export function createV2Writer(o: V2WriterOptions): LineWriter {
  // The client logs through a module-wide logger (to the console by default); route it to ours.
  // Failures are classified and logged by the sink, so the client's own lines are debug detail.
  setLogger({ error: (message, err) => o.logger.debug({ err }, message), warn: (message, err) => o.logger.debug({ err }, message) });
  const client = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeoutMs });
  const api: WriteApi = client.getWriteApi(o.org, o.bucket, 'ms', {
    maxRetries: 0,
    batchSize: 1 << 30,
    maxBatchBytes: 1 << 30,
    flushInterval: 0,
    maxBufferLines: 1 << 30,
    // gzip only when asked: on loopback it brought nothing (bench/influx.ts)
    gzipThreshold: o.gzip ? 1000 : Number.MAX_SAFE_INTEGER,
  });
  return {
    async write(lines) {
      try {
        api.writeRecords(lines as string[]);
        await api.flush();
        return { kind: 'ok' };
      } catch (err) {
        if (err instanceof HttpError) return classify(err.statusCode, err.body ?? err.message, parseRetryAfter(err.headers?.['retry-after'] as string | undefined, Date.now()));
        return { kind: 'retry', status: 0, error: (err as Error).message };
      }
    },
    async close() {
      await api.close().catch(() => undefined);
    },
  };
}
