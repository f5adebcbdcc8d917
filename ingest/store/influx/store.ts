import { systemClock, type Clock } from '../../../lib/clock.js';
import { silentLogger, type Logger } from '../../../lib/log.js';
import { openDb, type Db } from '../../../lib/sqlite.js';
import { FIELDS, KINDS, type Accepted, type Kind } from '../../readings.js';
import type { AppendOutcome, BucketRow, RangeQuery, ReadingRow, StoreStats, TelemetryStore } from '../port.js';
import { contentDigest } from '../same-reading.js';
import { InfluxErrors } from './errors.js';
import { LineEncoder, encodeEstimate, type DeviceTags } from './line.js';
import type { EstimatePoint } from '../port.js';
import { Outbox, type OutboxStats } from './outbox.js';
import { createQuery, quoteIdent, quoteString, type Series } from './query.js';
import { Sink, type SinkStats } from './sink.js';
import { createV1Writer, createV2Writer, type LineWriter } from './writer.js';

export type InfluxConnection =
  /** /api/v2/write through the official client (InfluxDB 2.x, 3.x, 1.8+); reads from the DBRP-mapped `db` (default: the bucket) */
  | { api: 'v2'; url: string; token: string; org: string; bucket: string; db?: string; rp?: string }
  /** /write of InfluxDB 1.x */
  | { api: 'v1'; url: string; db: string; rp?: string; user?: string; password?: string };

export interface InfluxStoreOptions {
  connection: InfluxConnection;
  /** the outbox database: a file this store opens and closes, or one the caller owns */
  outbox: { file: string; synchronous?: 'FULL' | 'NORMAL' } | { db: Db };
  /** bytes; append() rejects with INFLUX_OUTBOX_FULL beyond this, so devices keep their readings */
  outboxMaxBytes: number;
  /** model and accuracy class tags of a device (from the registry) */
  deviceTags?: (deviceId: string) => DeviceTags | undefined;
  clock?: Clock;
  logger?: Logger;
  /** lines per write request */
  batchLines?: number;
  /** write requests in flight */
  inFlight?: number;
  /** gzip request bodies (off by default: no gain measured on loopback, see bench/influx.ts) */
  gzip?: boolean;
  /** ms, per HTTP request */
  timeoutMs?: number;
  /** ms a read waits for earlier appends to reach InfluxDB before querying anyway */
  readWaitMs?: number;
  /** ms, sink back-off bounds */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** replaces the HTTP writer (tests inject failing servers this way too, but real ones are preferred) */
  writer?: () => LineWriter;
  /** ms: redeliveries are recognised for at least this long, at most twice it (default 7 days; see outbox.ts) */
  dedupWindowMs?: number;
}

export interface InfluxOutboxStats extends OutboxStats {
  /** rows of the deduplication index (bounded: at most two windows of readings) */
  deduplicationRows: number;
  /** bytes */
  maxBytes: number;
  sink: SinkStats;
}

export interface InfluxTelemetryStore extends TelemetryStore {
  /** starts the sink; append() queues before it too */
  start(): void;
  outboxStats(): InfluxOutboxStats;
  /** lines InfluxDB refused, newest first, with its error text */
  rejected(limit?: number): { line: string; status: number; error: string; at: number }[];
  /**
   * Queues analytics outputs (measurement `analytics`) through the same durable outbox; an
   * instrument's estimate at one event time is written once (keyed like a reading by device and
   * time), so replays after a restart overwrite rather than add.
   */
  appendEstimates(points: readonly EstimatePoint[]): void;
}

const TAG_COLUMNS = new Set(['time', 'class', 'device', 'model', 'region', 'site']);
/** the fraction of outboxMaxBytes at which a warning is logged, once per crossing */
const WARN_LEVELS = [0.5, 0.8, 0.95] as const;

/**
 * The InfluxDB TelemetryStore. append() is durable locally (the outbox, in SQLite) and returns;
 * the sink delivers to InfluxDB behind it. Reads go through InfluxQL after waiting up to
 * readWaitMs for earlier appends to be confirmed, so a reader sees its own writes when InfluxDB
 * keeps up. Schema: README, "InfluxDB".
 */
export function createInfluxStore(options: InfluxStoreOptions): InfluxTelemetryStore {
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? silentLogger;
  const c = options.connection;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const readWaitMs = options.readWaitMs ?? 2_000;
  const ownsDb = 'file' in options.outbox;
  const db = 'file' in options.outbox ? openDb(options.outbox.file, { synchronous: options.outbox.synchronous ?? 'FULL' }) : options.outbox.db;
  const outbox = Outbox.open(db, { now: () => clock.now(), ...(options.dedupWindowMs !== undefined ? { dedupWindowMs: options.dedupWindowMs } : {}) });
  const encoder = new LineEncoder(options.deviceTags);
  const gzip = options.gzip ?? false;
  const writer =
    options.writer ??
    (c.api === 'v2'
      ? () => createV2Writer({ url: c.url, token: c.token, org: c.org, bucket: c.bucket, gzip, timeoutMs, logger: log })
      : () => createV1Writer({ url: c.url, db: c.db, ...(c.rp ? { rp: c.rp } : {}), ...(c.user !== undefined ? { user: c.user } : {}), ...(c.password !== undefined ? { password: c.password } : {}), gzip, timeoutMs }));
  const sink = new Sink({
    outbox,
    writer,
    clock,
    logger: log,
    batchLines: options.batchLines ?? 5000,
    lanes: options.inFlight ?? 4,
    backoffMinMs: options.backoffMinMs ?? 250,
    backoffMaxMs: options.backoffMaxMs ?? 30_000,
    idlePollMs: 1000,
  });
  const query = createQuery(
    c.api === 'v2'
      ? { url: c.url, db: c.db ?? c.bucket, ...(c.rp ? { rp: c.rp } : {}), token: c.token, timeoutMs }
      : { url: c.url, db: c.db, ...(c.rp ? { rp: c.rp } : {}), ...(c.user !== undefined ? { user: c.user } : {}), ...(c.password !== undefined ? { password: c.password } : {}), timeoutMs },
  );
  let closed = false;
  let warned = 0;

  const checkBacklog = (bytes: number) => {
    const level = WARN_LEVELS.filter((l) => bytes >= l * options.outboxMaxBytes).length;
    if (level > warned) log.warn({ pendingBytes: bytes, maxBytes: options.outboxMaxBytes, pending: outbox.stats().pending, sink: sink.stats() }, `InfluxDB outbox is ${Math.round((WARN_LEVELS[level - 1] ?? 0) * 100)} % full`);
    warned = level;
  };

  const settle = () => sink.settled(outbox.newestId(), readWaitMs);
  const where = (deviceId: string, q: RangeQuery) => `WHERE "device" = ${quoteString(deviceId)} AND time >= ${Math.floor(q.from)}ms AND time < ${Math.ceil(q.to)}ms`;
  const limitOf = (q: RangeQuery) => Math.max(0, Math.floor(q.limit));

  return {
    name: `influx-${c.api}`,

    start() {
      if (closed) return;
      sink.start();
    },

    appendEstimates(points: readonly EstimatePoint[]): void {
      if (closed || points.length === 0) return;
      outbox.enqueue(points.map((e) => encodeEstimate(e, options.deviceTags?.(e.deviceId))));
      sink.kick();
    },

    append(readings: readonly Accepted[]): Promise<AppendOutcome[]> {
      if (closed) return Promise.reject(InfluxErrors.make('INFLUX_STORE_CLOSED'));
      if (readings.length === 0) return Promise.resolve([]);
      const before = outbox.stats().pendingBytes;
      if (before >= options.outboxMaxBytes) return Promise.reject(InfluxErrors.make('INFLUX_OUTBOX_FULL', { pendingBytes: before, maxBytes: options.outboxMaxBytes }));
      try {
        const entries = readings.map((r) => ({ deviceId: r.deviceId, seq: r.seq, ts: r.ts, digest: contentDigest(r) }));
        const outcomes = outbox.append(entries, (i) => encoder.encode(readings[i] as Accepted));
        checkBacklog(outbox.stats().pendingBytes);
        sink.kick();
        return Promise.resolve(outcomes);
      } catch (err) {
        return Promise.reject(err);
      }
    },

    async range(deviceId: string, kind: Kind, q: RangeQuery): Promise<ReadingRow[]> {
      const limit = limitOf(q);
      if (limit === 0) return [];
      await settle();
      const series = await query(`SELECT * FROM ${quoteIdent(kind)} ${where(deviceId, q)} ORDER BY time ASC LIMIT ${limit}`);
      const out: ReadingRow[] = [];
      for (const s of series) {
        const cols = s.columns;
        for (const v of s.values) {
          const row: ReadingRow = { ts: 0, seq: 0, receivedAt: 0, fields: {}, events: [] };
          for (let i = 0; i < cols.length; i++) {
            const col = cols[i] as string;
            const x = v[i];
            if (col === 'time') row.ts = x as number;
            else if (x === null || x === undefined || TAG_COLUMNS.has(col)) continue;
            else if (col === 'seq') row.seq = x as number;
            else if (col === 'receivedAt') row.receivedAt = x as number;
            else if (col === 'events') row.events = x === '' ? [] : String(x).split(',');
            else if (typeof x === 'number') row.fields[col] = x;
          }
          out.push(row);
        }
      }
      out.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
      return out.slice(0, limit);
    },

    async downsample(deviceId: string, kind: Kind, q: RangeQuery & { bucketMs: number }): Promise<BucketRow[]> {
      const bucketMs = Math.floor(q.bucketMs);
      if (!(bucketMs >= 1)) throw new RangeError(`bucketMs must be ≥ 1 ms, got ${q.bucketMs}`);
      const limit = limitOf(q);
      if (limit === 0) return [];
      await settle();
      const fields = FIELDS[kind];
      const agg = fields.map((f) => `mean(${quoteIdent(f)}) AS ${quoteIdent(`mean_${f}`)}, min(${quoteIdent(f)}) AS ${quoteIdent(`min_${f}`)}, max(${quoteIdent(f)}) AS ${quoteIdent(`max_${f}`)}`).join(', ');
      // GROUP BY time() buckets are aligned to the epoch (InfluxQL, "GROUP BY time intervals"), as the port requires
      const series = await query(`SELECT count("seq") AS "n", ${agg} FROM ${quoteIdent(kind)} ${where(deviceId, q)} GROUP BY time(${bucketMs}ms) fill(none) LIMIT ${limit}`);
      const out: BucketRow[] = [];
      for (const s of series) {
        const idx = new Map(s.columns.map((col, i) => [col, i]));
        const at = (v: (string | number | null)[], col: string) => v[idx.get(col) ?? -1];
        for (const v of s.values) {
          const n = at(v, 'n');
          if (typeof n !== 'number' || n === 0) continue;
          const b: BucketRow = { ts: at(v, 'time') as number, count: n, mean: {}, min: {}, max: {} };
          for (const f of fields) {
            const mean = at(v, `mean_${f}`);
            if (typeof mean !== 'number') continue;
            b.mean[f] = mean;
            b.min[f] = at(v, `min_${f}`) as number;
            b.max[f] = at(v, `max_${f}`) as number;
          }
          out.push(b);
        }
      }
      return out.slice(0, limit);
    },

    async count(deviceId?: string): Promise<number> {
      await settle();
      const from = KINDS.map(quoteIdent).join(', ');
      const series: Series[] = await query(`SELECT count("seq") FROM ${from}${deviceId === undefined ? '' : ` WHERE "device" = ${quoteString(deviceId)}`}`);
      let n = 0;
      for (const s of series) for (const v of s.values) n += typeof v[1] === 'number' ? v[1] : 0;
      return n;
    },

    stats(): StoreStats {
      const s = outbox.stats();
      return { readings: s.accepted, pending: s.pending, failed: s.failed };
    },

    outboxStats(): InfluxOutboxStats {
      return { ...outbox.stats(), deduplicationRows: outbox.deduplicationRows(), maxBytes: options.outboxMaxBytes, sink: sink.stats() };
    },

    rejected(limit?: number) {
      return outbox.rejected(limit);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await sink.close();
      if (ownsDb) db.close();
    },
  };
}
