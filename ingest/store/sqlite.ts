import type { Statement } from 'better-sqlite3';
import { openDb, type Db } from '../../lib/sqlite.js';
import { FIELDS, KINDS, type Accepted, type Kind } from '../readings.js';
import type { AppendOutcome, BucketRow, RangeQuery, ReadingRow, StoreStats, TelemetryStore } from './port.js';
import { sameReading } from './same-reading.js';

export type SqliteStoreOptions =
  /** a database the caller owns: close() leaves it open */
  | { db: Db }
  /** a file this store opens and closes; synchronous defaults to FULL (see lib/sqlite.ts) */
  | { file: string; synchronous?: 'FULL' | 'NORMAL' };

/**
 * One table for every kind. The primary key (device_id, seq) is the deduplication key, so
 * `INSERT OR IGNORE` makes redeliveries no-ops and `.changes` says which rows were new; only for
 * a row that was not new is the stored one read, to tell a redelivery from a reused seq.
 * WITHOUT ROWID: rows are small (well under 1/20 of a page, the SQLite guideline), and the table
 * is then one B-tree clustered by device instead of a rowid tree plus a unique index, which
 * saves a B-tree insert per reading (https://sqlite.org/withoutrowid.html, section 4).
 * Fields are a JSON object: kinds differ in fields, and json_extract() serves the downsampling.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  fields TEXT NOT NULL,
  events TEXT,
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_device_ts ON readings(device_id, ts);
`;

interface Row {
  ts: number;
  seq: number;
  received_at: number;
  fields: string;
  events: string | null;
}

type Aggregates = { b: number; n: number } & Record<string, number | null>;

/** mean/min/max of each field of a kind per epoch-aligned bucket, one prepared statement per kind */
function downsampleSql(kind: Kind): string {
  const fields = FIELDS[kind];
  const extract = fields.map((f, i) => `json_extract(fields, '$.${f}') AS f${i}`).join(', ');
  const agg = fields.map((_, i) => `avg(f${i}) AS mean${i}, min(f${i}) AS min${i}, max(f${i}) AS max${i}`).join(', ');
  return `SELECT b, count(*) AS n, ${agg} FROM (
      SELECT (ts / CAST(@bucketMs AS INTEGER)) * CAST(@bucketMs AS INTEGER) AS b, ${extract}
      FROM readings WHERE device_id = @deviceId AND kind = @kind AND ts >= @from AND ts < @to
    ) GROUP BY b ORDER BY b LIMIT @limit`;
}

/** The embedded TelemetryStore. Open with `SqliteTelemetryStore.open(options)`. */
export class SqliteTelemetryStore implements TelemetryStore {
  readonly name = 'sqlite';
  readonly #db: Db;
  readonly #ownsDb: boolean;
  readonly #insert: (readings: readonly Accepted[]) => AppendOutcome[];
  readonly #range: Statement;
  readonly #count: Statement;
  readonly #countDevice: Statement;
  readonly #downsample: { readonly [K in Kind]: Statement };
  #readings: number;
  #failed = 0;
  #closed = false;

  /** Creates the table (if missing), prepares every statement and counts the stored readings. */
  static open(options: SqliteStoreOptions): SqliteTelemetryStore {
    if ('db' in options) return new SqliteTelemetryStore(options.db, false);
    return new SqliteTelemetryStore(openDb(options.file, options.synchronous ? { synchronous: options.synchronous } : {}), true);
  }

  // Private: construction does I/O, so it happens only through open(), whose name says so.
  private constructor(db: Db, ownsDb: boolean) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    db.exec(SCHEMA);
    const insert = db.prepare(`INSERT OR IGNORE INTO readings (device_id, seq, ts, received_at, kind, fields, events) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const stored = db.prepare(`SELECT ts, fields, events FROM readings WHERE device_id = ? AND seq = ?`);
    this.#insert = db.transaction((readings: readonly Accepted[]) => {
      const out = new Array<AppendOutcome>(readings.length);
      for (let i = 0; i < readings.length; i++) {
        const r = readings[i] as Accepted;
        const events = r.events.length === 0 ? null : JSON.stringify(r.events);
        if (insert.run(r.deviceId, r.seq, r.ts, r.receivedAt, r.kind, JSON.stringify(r.fields), events).changes === 1) {
          out[i] = 'new';
          continue;
        }
        const s = stored.get(r.deviceId, r.seq) as Pick<Row, 'ts' | 'fields' | 'events'> | undefined;
        const same = s !== undefined && sameReading(r, { ts: s.ts, fields: JSON.parse(s.fields) as Record<string, number>, events: s.events === null ? [] : (JSON.parse(s.events) as string[]) });
        out[i] = same ? 'duplicate' : 'conflict';
      }
      return out;
    });
    this.#range = db.prepare(`SELECT ts, seq, received_at, fields, events FROM readings
      WHERE device_id = ? AND kind = ? AND ts >= ? AND ts < ? ORDER BY ts, seq LIMIT ?`);
    this.#count = db.prepare(`SELECT count(*) AS n FROM readings`);
    this.#countDevice = db.prepare(`SELECT count(*) AS n FROM readings WHERE device_id = ?`);
    const ds = {} as Record<Kind, Statement>;
    for (const k of KINDS) ds[k] = db.prepare(downsampleSql(k));
    this.#downsample = ds;
    this.#readings = (this.#count.get() as { n: number }).n;
  }

  append(readings: readonly Accepted[]): Promise<AppendOutcome[]> {
    if (this.#closed) return Promise.reject(new Error('store is closed'));
    if (readings.length === 0) return Promise.resolve([]);
    try {
      // Synchronous: when the transaction returns, the commit is in the WAL (fsynced with FULL).
      const outcomes = this.#insert(readings);
      for (const o of outcomes) if (o === 'new') this.#readings++;
      return Promise.resolve(outcomes);
    } catch (err) {
      this.#failed += readings.length;
      return Promise.reject(err);
    }
  }

  range(deviceId: string, kind: Kind, q: RangeQuery): Promise<ReadingRow[]> {
    try {
      const rows = this.#range.all(deviceId, kind, q.from, q.to, Math.max(0, Math.floor(q.limit))) as Row[];
      return Promise.resolve(
        rows.map((r) => ({
          ts: r.ts,
          seq: r.seq,
          receivedAt: r.received_at,
          fields: JSON.parse(r.fields) as Record<string, number>,
          events: r.events === null ? [] : (JSON.parse(r.events) as string[]),
        })),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  downsample(deviceId: string, kind: Kind, q: RangeQuery & { bucketMs: number }): Promise<BucketRow[]> {
    try {
      const bucketMs = Math.floor(q.bucketMs);
      if (!(bucketMs >= 1)) throw new RangeError(`bucketMs must be ≥ 1 ms, got ${q.bucketMs}`);
      const rows = this.#downsample[kind].all({ deviceId, kind, from: q.from, to: q.to, bucketMs, limit: Math.max(0, Math.floor(q.limit)) }) as Aggregates[];
      const fields = FIELDS[kind];
      return Promise.resolve(
        rows.map((r) => {
          const out: BucketRow = { ts: r.b, count: r.n, mean: {}, min: {}, max: {} };
          for (let i = 0; i < fields.length; i++) {
            const mean = r[`mean${i}`];
            // A field absent from every reading of the bucket has no statistics at all.
            if (mean === null || mean === undefined) continue;
            const f = fields[i] as string;
            out.mean[f] = mean;
            out.min[f] = r[`min${i}`] as number;
            out.max[f] = r[`max${i}`] as number;
          }
          return out;
        }),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  count(deviceId?: string): Promise<number> {
    try {
      const row = (deviceId === undefined ? this.#count.get() : this.#countDevice.get(deviceId)) as { n: number };
      return Promise.resolve(row.n);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  stats(): StoreStats {
    return { readings: this.#readings, pending: 0, failed: this.#failed };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#ownsDb) this.#db.close();
    return Promise.resolve();
  }
}
