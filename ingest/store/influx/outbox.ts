import type { Statement } from 'better-sqlite3';
import { addColumnIfMissing, type Db } from '../../../lib/sqlite.js';
import type { AppendOutcome } from '../port.js';

/**
 * The durable outbox: line-protocol lines wait here, in SQLite (WAL), until InfluxDB confirms them.
 * AUTOINCREMENT: ids never come back after the queue drains, so the sink's cursor (take ids > the
 * last taken) cannot skip a reused id (https://sqlite.org/autoinc.html).
 * `seen` is the deduplication index on (device, seq) that answers append()'s outcomes. It keeps each
 * reading's ts and a digest of its content (same-reading.ts), so a reading that reuses a seq with
 * a different ts or values is told from a redelivery without keeping the reading itself; rows from
 * before the digest column have none and are compared by ts alone.
 * It is bounded by generations: every `dedupWindowMs` the current table becomes the old one and
 * the old one is retired, so a redelivery is recognised for at least one window and at most two,
 * and the index holds at most two windows of readings, whatever the uptime. (A redelivery older
 * than that is written again; InfluxDB keeps one point per series and time, so it overwrites.)
 * `rejected` keeps the lines InfluxDB refused with its error text (nothing is dropped silently).
 */
const SEEN_TABLE = `(
  device_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, digest INTEGER,
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID`;
const SEEN_TABLES = ['influx_seen', 'influx_seen_old', 'influx_seen_trash'] as const;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS influx_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS influx_seen ${SEEN_TABLE};
CREATE TABLE IF NOT EXISTS influx_seen_old ${SEEN_TABLE};
CREATE TABLE IF NOT EXISTS influx_seen_trash ${SEEN_TABLE};
CREATE TABLE IF NOT EXISTS influx_rejected (
  id INTEGER PRIMARY KEY, line TEXT NOT NULL, status INTEGER NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS influx_counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
`;

/** bytes SQLite spends per outbox row beyond the line (rowid, record header, cell pointer), roughly */
const ROW_OVERHEAD_BYTES = 16;

export interface OutboxBatch {
  /** first and last outbox id; the batch holds every id in between */
  lo: number;
  hi: number;
  ids: number[];
  lines: string[];
}

export interface OutboxEntry {
  deviceId: string;
  seq: number;
  /** ms */
  ts: number;
  /** contentDigest() of the reading (same-reading.ts) */
  digest: number;
}

interface Seen {
  ts: number;
  digest: number | null;
}

/** A reading against the one the index holds under its (device, seq). */
const judge = (e: OutboxEntry, seen: Seen): AppendOutcome => (e.ts === seen.ts && (seen.digest === null || seen.digest === e.digest) ? 'duplicate' : 'conflict');

export interface OutboxStats {
  /** lines waiting for InfluxDB */
  pending: number;
  /** bytes, approximate size of the waiting lines */
  pendingBytes: number;
  /** lines InfluxDB confirmed, since the outbox was created */
  written: number;
  /** lines InfluxDB refused (kept in influx_rejected) */
  failed: number;
  /** readings ever accepted */
  accepted: number;
}

export interface OutboxOptions {
  /** ms: a redelivery of a (device, seq) is recognised for at least this long (default 7 days) */
  dedupWindowMs?: number;
  /** ms since the epoch */
  now?: () => number;
}



export class Outbox {
  readonly #db: Db;
  readonly #append: (entries: readonly OutboxEntry[], lineOf: (i: number) => string) => AppendOutcome[];
  readonly #enqueue: (lines: readonly string[]) => void;
  readonly #take: Statement;
  readonly #release: (lo: number, hi: number, n: number, bytes: number) => void;
  readonly #reject: (id: number, status: number, error: string, at: number) => void;
  readonly #minId: Statement;
  #pending: number;
  #pendingBytes: number;
  #written: number;
  #failed: number;
  #accepted: number;
  #lastId = 0;
  readonly #now: () => number;
  readonly #windowMs: number;
  #rotatedAt: number;
  readonly #rotate: (at: number) => void;
  /** rows of a retired generation remain to be deleted, a bounded chunk per append */
  #trashing: boolean;
  /** rows of the two generations of the deduplication index, counted once at open and kept since */
  #curRows: number;
  #oldRows: number;

  /** Creates the tables if missing, prepares every statement and reads the counters. */
  static open(db: Db, opts: OutboxOptions = {}): Outbox {
    return new Outbox(db, opts);
  }

  private constructor(db: Db, opts: OutboxOptions) {
    this.#db = db;
    this.#now = opts.now ?? Date.now;
    this.#windowMs = opts.dedupWindowMs ?? 7 * 86_400_000;
    db.exec(SCHEMA);
    // tables made before the digest column get it, empty
    for (const t of SEEN_TABLES) addColumnIfMissing(db, t, 'digest', 'INTEGER');
    const seen = db.prepare(`INSERT OR IGNORE INTO influx_seen (device_id, seq, ts, digest) VALUES (?, ?, ?, ?)`);
    const inCur = db.prepare(`SELECT ts, digest FROM influx_seen WHERE device_id = ? AND seq = ?`);
    const inOld = db.prepare(`SELECT ts, digest FROM influx_seen_old WHERE device_id = ? AND seq = ?`);
    const put = db.prepare(`INSERT INTO influx_outbox (line) VALUES (?)`);
    const bump = db.prepare(`INSERT INTO influx_counters (name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n`);
    const setCounter = db.prepare(`INSERT INTO influx_counters (name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = excluded.n`);
    const counter = (name: string) => (db.prepare(`SELECT n FROM influx_counters WHERE name = ?`).get(name) as { n: number } | undefined)?.n;
    this.#curRows = db.prepare(`SELECT count(*) FROM influx_seen`).pluck().get() as number;
    this.#oldRows = db.prepare(`SELECT count(*) FROM influx_seen_old`).pluck().get() as number;
    // the count of readings ever accepted lives in a counter, since the index forgets
    if (counter('accepted') === undefined) setCounter.run('accepted', this.#curRows + this.#oldRows);
    const rotatedAt = counter('seen_rotated_at');
    this.#rotatedAt = rotatedAt ?? this.#now();
    if (rotatedAt === undefined) setCounter.run('seen_rotated_at', this.#rotatedAt);
    this.#trashing = db.prepare(`SELECT 1 FROM influx_seen_trash LIMIT 1`).get() !== undefined;
    // a rotation renames, which costs nothing however large the tables: the retired generation
    // becomes the trash, deleted a chunk per append (dropping it at once would stall ingest for
    // as long as it takes to free a window of rows); a trash not yet empty a window later (no
    // appends in between) is dropped then
    this.#rotate = db.transaction((at: number) => {
      db.exec(`DROP TABLE influx_seen_trash; ALTER TABLE influx_seen_old RENAME TO influx_seen_trash; ALTER TABLE influx_seen RENAME TO influx_seen_old; CREATE TABLE influx_seen ${SEEN_TABLE};`);
      setCounter.run('seen_rotated_at', at);
    });
    const sweep = db.prepare(`DELETE FROM influx_seen_trash WHERE (device_id, seq) IN (SELECT device_id, seq FROM influx_seen_trash LIMIT ?)`);
    this.#enqueue = db.transaction((lines: readonly string[]) => {
      let bytes = 0;
      for (const line of lines) {
        this.#lastId = Number(put.run(line).lastInsertRowid);
        bytes += line.length + ROW_OVERHEAD_BYTES;
      }
      this.#pending += lines.length;
      this.#pendingBytes += bytes;
    });
    this.#append = db.transaction((entries: readonly OutboxEntry[], lineOf: (i: number) => string) => {
      const out = new Array<AppendOutcome>(entries.length);
      let bytes = 0;
      let n = 0;
      const checkOld = this.#oldRows > 0;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as OutboxEntry;
        // the common path, a new reading, is one insert (and one lookup while an old generation
        // exists); the current generation is read only when the insert found the key taken
        const old = checkOld ? (inOld.get(e.deviceId, e.seq) as Seen | undefined) : undefined;
        if (old !== undefined) {
          out[i] = judge(e, old);
          continue;
        }
        if (seen.run(e.deviceId, e.seq, e.ts, e.digest).changes === 0) {
          const cur = inCur.get(e.deviceId, e.seq) as Seen | undefined;
          out[i] = cur === undefined ? 'conflict' : judge(e, cur);
          continue;
        }
        out[i] = 'new';
        const line = lineOf(i);
        this.#lastId = Number(put.run(line).lastInsertRowid);
        bytes += line.length + ROW_OVERHEAD_BYTES;
        n++;
      }
      if (n > 0) bump.run('accepted', n);
      let swept = true;
      if (this.#trashing) {
        const chunk = Math.max(256, 2 * entries.length);
        swept = sweep.run(chunk).changes < chunk;
      }
      // counted after the commit below succeeds (a thrown error rolls back and skips this)
      this.#pending += n;
      this.#pendingBytes += bytes;
      this.#accepted += n;
      this.#curRows += n;
      if (swept) this.#trashing = false;
      return out;
    });
    this.#take = db.prepare(`SELECT id, line FROM influx_outbox WHERE id > ? ORDER BY id LIMIT ?`).raw(true);
    const del = db.prepare(`DELETE FROM influx_outbox WHERE id >= ? AND id <= ?`);
    this.#release = db.transaction((lo: number, hi: number, n: number, bytes: number) => {
      const gone = del.run(lo, hi).changes;
      bump.run('written', n);
      this.#pending -= gone;
      this.#pendingBytes = Math.max(0, this.#pendingBytes - bytes);
      this.#written += n;
    });
    const move = db.prepare(`INSERT INTO influx_rejected (line, status, error, at) SELECT line, ?, ?, ? FROM influx_outbox WHERE id = ?`);
    const del1 = db.prepare(`DELETE FROM influx_outbox WHERE id = ?`);
    const getLine = db.prepare(`SELECT length(line) AS n FROM influx_outbox WHERE id = ?`);
    this.#reject = db.transaction((id: number, status: number, error: string, at: number) => {
      const row = getLine.get(id) as { n: number } | undefined;
      if (!row) return;
      move.run(status, error.slice(0, 2000), at, id);
      del1.run(id);
      this.#pending--;
      this.#pendingBytes = Math.max(0, this.#pendingBytes - row.n - ROW_OVERHEAD_BYTES);
      this.#failed++;
    });
    this.#minId = db.prepare(`SELECT min(id) AS id FROM influx_outbox`);
    const p = db.prepare(`SELECT count(*) AS n, coalesce(sum(length(line)), 0) AS b FROM influx_outbox`).get() as { n: number; b: number };
    this.#lastId = (db.prepare(`SELECT coalesce(max(id), 0) AS id FROM influx_outbox`).get() as { id: number }).id;
    this.#pending = p.n;
    this.#pendingBytes = p.b + p.n * ROW_OVERHEAD_BYTES;
    this.#failed = (db.prepare(`SELECT count(*) AS n FROM influx_rejected`).get() as { n: number }).n;
    this.#accepted = counter('accepted') ?? 0;
    this.#written = counter('written') ?? 0;
  }

  /**
   * Queues lines that need no deduplication and are not readings: points InfluxDB itself keeps
   * once per series and time (analytics outputs), so a repeat overwrites rather than adds.
   */
  enqueue(lines: readonly string[]): void {
    if (lines.length) this.#enqueue(lines);
  }

  /**
   * Records the entries in one transaction: new ones (by device and seq) get their line queued;
   * redeliveries (same ts and content digest) and reused seqs (a different ts or digest) nothing.
   * Returns an outcome per entry. `lineOf(i)` is called for new entries only, so redeliveries
   * cost no encoding.
   */
  append(entries: readonly OutboxEntry[], lineOf: (i: number) => string): AppendOutcome[] {
    const now = this.#now();
    if (now - this.#rotatedAt >= this.#windowMs) {
      // after two windows or more (the platform was down) both generations are out of date
      const turns = now - this.#rotatedAt >= 2 * this.#windowMs ? 2 : 1;
      for (let i = 0; i < turns; i++) {
        this.#rotate(now);
        this.#oldRows = this.#curRows;
        this.#curRows = 0;
      }
      this.#rotatedAt = now;
      this.#trashing = true;
    }
    return this.#append(entries, lineOf);
  }

  /** up to `limit` queued lines with id > afterId, oldest first; null when there are none */
  take(afterId: number, limit: number): OutboxBatch | null {
    const rows = this.#take.all(afterId, limit) as [number, string][];
    if (rows.length === 0) return null;
    const ids = new Array<number>(rows.length);
    const lines = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as [number, string];
      ids[i] = r[0];
      lines[i] = r[1];
    }
    return { lo: ids[0] as number, hi: ids[ids.length - 1] as number, ids, lines };
  }

  /** InfluxDB confirmed the lines with ids lo..hi (all of them, contiguous in the outbox) */
  release(lo: number, hi: number, lines: readonly string[]): void {
    let bytes = 0;
    for (const l of lines) bytes += l.length + ROW_OVERHEAD_BYTES;
    this.#release(lo, hi, lines.length, bytes);
  }

  /** InfluxDB refused this line: it leaves the queue for influx_rejected, with the error text */
  reject(id: number, status: number, error: string, at: number): void {
    this.#reject(id, status, error, at);
  }

  /** the oldest queued id, or null when the queue is empty */
  oldestId(): number | null {
    return (this.#minId.get() as { id: number | null }).id;
  }

  /** the newest id queued (by this process, or left queued by the last one; 0 when none) */
  newestId(): number {
    return this.#lastId;
  }

  rejected(limit = 100): { line: string; status: number; error: string; at: number }[] {
    return this.#db.prepare(`SELECT line, status, error, at FROM influx_rejected ORDER BY id DESC LIMIT ?`).all(limit) as { line: string; status: number; error: string; at: number }[];
  }

  stats(): OutboxStats {
    return { pending: this.#pending, pendingBytes: this.#pendingBytes, written: this.#written, failed: this.#failed, accepted: this.#accepted };
  }

  /** rows in the deduplication index, both generations */
  deduplicationRows(): number {
    return this.#curRows + this.#oldRows;
  }
}
