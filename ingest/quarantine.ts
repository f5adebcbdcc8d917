import type { Statement } from 'better-sqlite3';
import type { Db } from '../lib/sqlite.js';
import type { Region } from './readings.js';
import { REJECT_REASONS, type RejectReason } from './errors.js';

/** bytes of a rejected payload kept: enough to see what went wrong, bounded per row */
export const QUARANTINE_PAYLOAD_BYTES = 1024;
/** rows kept by default */
export const QUARANTINE_MAX_ROWS = 100_000;

export interface QuarantineEntry {
  deviceId: string;
  region: Region;
  topic: string;
  /** the rejected message, or for one element of a batch that element's JSON; truncated on insert */
  payload: Buffer;
  reason: RejectReason;
  detail: string;
  /** ms, broker receive time */
  receivedAt: number;
}

export interface QuarantineRow {
  id: number;
  deviceId: string;
  region: Region;
  topic: string;
  /** the first QUARANTINE_PAYLOAD_BYTES of the payload, decoded as UTF-8 */
  payload: string;
  /** bytes, size of the payload as received */
  payloadBytes: number;
  reason: RejectReason;
  detail: string;
  /** ms */
  receivedAt: number;
}

export interface QuarantineQuery {
  limit: number;
  /** nextCursor of the previous page */
  cursor?: string | undefined;
  deviceId?: string | undefined;
  reason?: RejectReason | undefined;
  /** only rows of devices in these regions (an empty list matches nothing) */
  regions?: readonly Region[] | undefined;
}

export interface QuarantinePage {
  items: QuarantineRow[];
  nextCursor: string | null;
}

export interface QuarantineOptions {
  db: Db;
  /** rows kept; the oldest go first */
  maxRows?: number;
}

export interface Quarantine {
  /** creates the table and seeds the counters from it */
  start(): void;
  /** inserts entries and trims to maxRows, in one transaction */
  add(entries: readonly QuarantineEntry[]): void;
  /** newest first, keyset-paged */
  list(q: QuarantineQuery): QuarantinePage;
  /** rows quarantined per reason: those in the table at start plus those added since */
  counts(): Readonly<Record<RejectReason, number>>;
  close(): void;
}

interface Row {
  id: number;
  device_id: string;
  region: string;
  topic: string;
  payload: Buffer;
  payload_bytes: number;
  reason: string;
  detail: string;
  received_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS quarantine (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  region TEXT NOT NULL,
  topic TEXT NOT NULL,
  payload BLOB NOT NULL,
  payload_bytes INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_device ON quarantine(device_id, id);
CREATE INDEX IF NOT EXISTS quarantine_reason ON quarantine(reason, id);
`;

function zeroCounts(): Record<RejectReason, number> {
  const c = {} as Record<RejectReason, number>;
  for (const r of REJECT_REASONS) c[r] = 0;
  return c;
}

const toRow = (r: Row): QuarantineRow => ({
  id: r.id,
  deviceId: r.device_id,
  region: r.region as Region,
  topic: r.topic,
  payload: r.payload.toString('utf8'),
  payloadBytes: r.payload_bytes,
  reason: r.reason as RejectReason,
  detail: r.detail,
  receivedAt: r.received_at,
});

/**
 * Rejected readings, kept for inspection. The table is bounded: every insert transaction also
 * deletes the rows more than maxRows behind the newest id, so the table never holds more than
 * maxRows rows even under a flood of bad messages, and no separate cleanup job is needed.
 * Ids grow monotonically (rowids above the current maximum; the newest row is never deleted),
 * which is what both the trimming and the keyset paging rely on.
 */
export function createQuarantine(options: QuarantineOptions): Quarantine {
  const { db } = options;
  const maxRows = options.maxRows ?? QUARANTINE_MAX_ROWS;
  const counts = zeroCounts();
  let st: { insert: Statement; trim: Statement } | null = null;
  let insertMany: ((entries: readonly QuarantineEntry[]) => void) | null = null;
  let closed = false;

  function start(): void {
    if (st || closed) return;
    db.exec(SCHEMA);
    for (const { reason, n } of db.prepare(`SELECT reason, count(*) AS n FROM quarantine GROUP BY reason`).all() as { reason: string; n: number }[]) {
      if (reason in counts) counts[reason as RejectReason] += n;
    }
    const s = {
      insert: db.prepare(`INSERT INTO quarantine (device_id, region, topic, payload, payload_bytes, reason, detail, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      trim: db.prepare(`DELETE FROM quarantine WHERE id <= ?`),
    };
    st = s;
    insertMany = db.transaction((entries: readonly QuarantineEntry[]) => {
      let last = 0;
      for (const e of entries) {
        const kept = e.payload.length > QUARANTINE_PAYLOAD_BYTES ? e.payload.subarray(0, QUARANTINE_PAYLOAD_BYTES) : e.payload;
        last = Number(s.insert.run(e.deviceId, e.region, e.topic, kept, e.payload.length, e.reason, e.detail, e.receivedAt).lastInsertRowid);
      }
      if (last > maxRows) s.trim.run(last - maxRows);
    });
  }

  return {
    start,
    add(entries) {
      if (entries.length === 0) return;
      if (!insertMany) throw new Error('quarantine is not started');
      insertMany(entries);
      // counted only once the transaction committed
      for (const e of entries) counts[e.reason] += 1;
    },
    list(q) {
      if (!st) throw new Error('quarantine is not started');
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (q.regions) {
        if (q.regions.length === 0) return { items: [], nextCursor: null };
        where.push(`region IN (${q.regions.map(() => '?').join(',')})`);
        args.push(...q.regions);
      }
      if (q.deviceId !== undefined) (where.push('device_id = ?'), args.push(q.deviceId));
      if (q.reason !== undefined) (where.push('reason = ?'), args.push(q.reason));
      if (q.cursor !== undefined) {
        const c = Number(q.cursor);
        if (!Number.isSafeInteger(c)) return { items: [], nextCursor: null };
        where.push('id < ?');
        args.push(c);
      }
      const limit = Math.max(1, Math.min(1000, Math.floor(q.limit)));
      // Filtered lists are prepared per call: the dashboard calls this rarely, and the
      // combinations of filters would make a fixed statement set large.
      const rows = db
        .prepare(`SELECT * FROM quarantine ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
        .all(...args, limit + 1) as Row[];
      const more = rows.length > limit;
      const items = rows.slice(0, limit).map(toRow);
      return { items, nextCursor: more ? String(items.at(-1)?.id) : null };
    },
    counts: () => counts,
    close() {
      closed = true;
      st = null;
      insertMany = null;
    },
  };
}
