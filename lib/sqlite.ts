import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

export interface OpenOptions {
  /**
   * 'FULL' fsyncs every commit (survives power loss); 'NORMAL' in WAL mode survives a killed
   * process but not a power cut. Readings acknowledged to devices use FULL by default.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** Opens (creating its folder) a SQLite database in WAL mode. ':memory:' works too. */
export function openDb(file: string, opts: OpenOptions = {}): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * WHERE conditions for an optional region scope and column equalities (undefined values are
 * left out). `none` when the scope is empty: nothing can match. Column names come from the
 * caller's code, never from a request.
 */
export function scopeFilter(q: { equals?: Record<string, string | number | undefined>; regions?: readonly string[] | undefined }): { where: string[]; args: (string | number)[]; none: boolean } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.regions) {
    if (q.regions.length === 0) return { where, args, none: true };
    where.push(`region IN (${q.regions.map(() => '?').join(',')})`);
    args.push(...q.regions);
  }
  for (const [col, v] of Object.entries(q.equals ?? {})) if (v !== undefined) (where.push(`${col} = ?`), args.push(v));
  return { where, args, none: false };
}

/**
 * A page of a table, newest first by integer id, filtered by column equality and an optional
 * region scope: the shape every list of the API shares. `regions` of [] means "no region in
 * scope" (an empty page), undefined means "all regions".
 */
export function pageById<Row extends { id: number }>(
  db: Db,
  table: string,
  q: { equals?: Record<string, string | number | undefined>; regions?: readonly string[] | undefined; cursor?: number | undefined; limit: number },
): { rows: Row[]; nextCursor: number | null } {
  const { where, args, none } = scopeFilter(q);
  if (none) return { rows: [], nextCursor: null };
  if (q.cursor !== undefined) (where.push('id < ?'), args.push(q.cursor));
  const rows = db.prepare(`SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`).all(...args, q.limit + 1) as Row[];
  const page = rows.slice(0, q.limit);
  return { rows: page, nextCursor: rows.length > q.limit ? (page.at(-1)?.id ?? null) : null };
}

/**
 * Adds a column to a table made before the column existed (SQLite has no ADD COLUMN IF NOT
 * EXISTS). Table and column names come from the caller's code.
 */
export function addColumnIfMissing(db: Db, table: string, column: string, definition: string): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[];
  if (!columns.includes(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
}
