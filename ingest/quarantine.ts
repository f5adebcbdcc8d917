import type { Statement } from 'better-sqlite3';
import { addColumnIfMissing, type Db } from '../lib/sqlite.js';
import { MAX_PAYLOAD_BYTES, type Region } from './readings.js';
import { REJECT_REASONS, type RejectReason } from './errors.js';

/** bytes of a rejected payload kept: enough to see what went wrong, bounded per row */
export const QUARANTINE_PAYLOAD_BYTES = 1024;
/** rows kept by default */
export const QUARANTINE_MAX_ROWS = 100_000;
/** rows kept per device by default: a device's own flood trims its own oldest rows */
export const QUARANTINE_MAX_ROWS_PER_DEVICE = 1_000;

export interface QuarantineEntry {
  deviceId: string;
  region: Region;
  topic: string;
  /**
   * the rejected message; for elements of a batch rejected for one reason, that element's JSON, or
   * a JSON array of those elements when there are several; truncated on insert
   */
  payload: Buffer;
  reason: RejectReason;
  detail: string;
  /** ms, broker receive time */
  receivedAt: number;
  /** readings the row stands for (1 when absent): a batch's elements rejected for one reason share one row */
  readings?: number;
  /** the device's site, for listeners (analytics' data-quality alerts); not stored */
  site?: string;
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
  /** readings the row stands for */
  readings: number;
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
  /** rows kept per device, within maxRows; a device's oldest go first */
  maxRowsPerDevice?: number;
}

export interface Quarantine {
  /** creates the table and seeds the counters from it */
  start(): void;
  /** inserts entries and trims to maxRowsPerDevice and maxRows, in one transaction */
  add(entries: readonly QuarantineEntry[]): void;
  /** newest first, keyset-paged */
  list(q: QuarantineQuery): QuarantinePage;
  /** readings quarantined per reason: those in the table at start plus those added since */
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
  readings: number;
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
  received_at INTEGER NOT NULL,
  readings INTEGER NOT NULL DEFAULT 1
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
  readings: r.readings,
});

/**
 * Rejected readings, kept for inspection. The table is bounded twice, in every insert
 * transaction, so no separate cleanup job is needed:
 * - each device keeps at most maxRowsPerDevice rows, its oldest deleted first, so a device that
 *   floods the quarantine trims its own history and not that of the others;
 * - the table keeps at most maxRows rows, the oldest deleted first, whatever the devices.
 * A batch whose elements are rejected takes one row per reason with the count of readings
 * (ingest/parse.ts), not one row per element, so a message adds a handful of rows at most.
 * Ids grow monotonically (rowids above the current maximum; the newest row is never deleted),
 * which is what the keyset paging relies on.
 */
export function createQuarantine(options: QuarantineOptions): Quarantine {
  const { db } = options;
  const maxRows = options.maxRows ?? QUARANTINE_MAX_ROWS;
  const maxRowsPerDevice = Math.min(options.maxRowsPerDevice ?? QUARANTINE_MAX_ROWS_PER_DEVICE, maxRows);
  const counts = zeroCounts();
  let st: { insert: Statement } | null = null;
  let insertMany: ((entries: readonly QuarantineEntry[]) => number) | null = null;
  /** rows in the table, counted at start and kept since */
  let rows = 0;
  let closed = false;

  function start(): void {
    if (st || closed) return;
    db.exec(SCHEMA);
    // a table made before rows carried a count of readings: each of its rows was one reading
    addColumnIfMissing(db, 'quarantine', 'readings', 'INTEGER NOT NULL DEFAULT 1');
    for (const { reason, n } of db.prepare(`SELECT reason, sum(readings) AS n FROM quarantine GROUP BY reason`).all() as { reason: string; n: number }[]) {
      if (reason in counts) counts[reason as RejectReason] += n;
    }
    rows = db.prepare(`SELECT count(*) FROM quarantine`).pluck().get() as number;
    const s = {
      insert: db.prepare(`INSERT INTO quarantine (device_id, region, topic, payload, payload_bytes, reason, detail, received_at, readings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      // the id of a device's newest row beyond its allowance, through the (device_id, id) index
      deviceCut: db.prepare(`SELECT id FROM quarantine WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?`).pluck(),
      trimDevice: db.prepare(`DELETE FROM quarantine WHERE device_id = ? AND id <= ?`),
      trimOldest: db.prepare(`DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id LIMIT ?)`),
    };
    st = s;
    insertMany = db.transaction((entries: readonly QuarantineEntry[]) => {
      let n = rows;
      const devices = new Set<string>();
      for (const e of entries) {
        // readings refused for a reused seq are valid readings, acknowledged to the device: kept whole
        // (at most a message's worth, re-serialised: twice MAX_PAYLOAD_BYTES is room enough) so they
        // can be recovered; the rest only need enough to show what was wrong
        const limit = e.reason === 'ING_SEQ_REUSED' ? 2 * MAX_PAYLOAD_BYTES : QUARANTINE_PAYLOAD_BYTES;
        const kept = e.payload.length > limit ? e.payload.subarray(0, limit) : e.payload;
        s.insert.run(e.deviceId, e.region, e.topic, kept, e.payload.length, e.reason, e.detail, e.receivedAt, e.readings ?? 1);
        devices.add(e.deviceId);
        n++;
      }
      for (const d of devices) {
        const cut = s.deviceCut.get(d, maxRowsPerDevice) as number | undefined;
        if (cut !== undefined) n -= s.trimDevice.run(d, cut).changes;
      }
      if (n > maxRows) n -= s.trimOldest.run(n - maxRows).changes;
      return n;
    });
  }

  return {
    start,
    add(entries) {
      if (entries.length === 0) return;
      if (!insertMany) throw new Error('quarantine is not started');
      // counted only once the transaction committed
      rows = insertMany(entries);
      for (const e of entries) counts[e.reason] += e.readings ?? 1;
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
