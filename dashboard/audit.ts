import type { Clock } from '../lib/clock.js';
import { openDb, pageById, type Db } from '../lib/sqlite.js';

/** What the audit log records: every login attempt and every change of state a person makes. */
export const AUDIT_ACTIONS = ['login', 'login_failed', 'logout', 'alert_ack', 'alert_resolve', 'user_add', 'user_update', 'password_change', 'device_add', 'device_import', 'device_status', 'device_secret'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  id: number;
  /** ms */
  at: number;
  /** username (for a failed login, the name that was tried) */
  actor: string;
  action: AuditAction;
  /** what was acted on, e.g. `alert:42`, `user:insp-sh`, `session` */
  target: string;
  /** client address */
  ip: string | null;
  detail: string | null;
}

export interface AuditQuery {
  limit: number;
  /** id: page through older entries */
  cursor?: number | undefined;
  actor?: string | undefined;
  action?: AuditAction | undefined;
}

export interface AuditLog {
  record(e: { actor: string; action: AuditAction; target: string; ip?: string | null; detail?: string | null }): void;
  /** newest first, keyset-paged by id */
  list(q: AuditQuery): { items: AuditEntry[]; nextCursor: number | null };
  /** closes the database when the log opened it itself; idempotent */
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT NOT NULL, ip TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_actor ON audit_log(actor, id);
`;

/**
 * Append-only: there is no update or delete statement, so the API cannot rewrite history
 * (OWASP Logging Cheat Sheet, "Event attributes": when, who, where, what).
 */
export function createAuditLog(opts: { db?: Db | undefined; clock: Clock }): AuditLog {
  const own = opts.db === undefined;
  const db = opts.db ?? openDb(':memory:');
  db.exec(SCHEMA);
  const insert = db.prepare(`INSERT INTO audit_log (at, actor, action, target, ip, detail) VALUES (?, ?, ?, ?, ?, ?)`);
  let closed = false;
  return {
    record(e) {
      insert.run(opts.clock.now(), e.actor, e.action, e.target, e.ip ?? null, e.detail ?? null);
    },
    list(q) {
      const { rows, nextCursor } = pageById<AuditEntry>(db, 'audit_log', { equals: { actor: q.actor, action: q.action }, cursor: q.cursor, limit: q.limit });
      return { items: rows, nextCursor };
    },
    close() {
      if (closed) return;
      closed = true;
      if (own) db.close();
    },
  };
}
