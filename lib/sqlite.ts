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
