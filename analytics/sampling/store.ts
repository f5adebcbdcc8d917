import type { Db } from '../../lib/sqlite.js';

/**
 * SQLite tables of sampling verification. Results, signed decisions and the audit trail are
 * append-only: triggers refuse to change or delete them, so even direct SQL cannot rewrite evidence.
 */
export const SAMPLING_SCHEMA = `
CREATE TABLE IF NOT EXISTS sampling_lots (
  id TEXT PRIMARY KEY, region TEXT NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL, accuracy_class TEXT NOT NULL,
  from_date TEXT NOT NULL, to_date TEXT NOT NULL, members TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
  plan TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sampling_lists (
  id TEXT PRIMARY KEY, lot_id TEXT NOT NULL REFERENCES sampling_lots(id), purpose TEXT NOT NULL,
  seed INTEGER, method TEXT, inspector TEXT NOT NULL, region TEXT NOT NULL, items TEXT NOT NULL,
  created_at INTEGER NOT NULL, created_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sampling_lists_lot ON sampling_lists(lot_id);
CREATE TABLE IF NOT EXISTS verifications (
  id INTEGER PRIMARY KEY, list_id TEXT NOT NULL REFERENCES sampling_lists(id), lot_id TEXT NOT NULL, device_id TEXT NOT NULL,
  date TEXT NOT NULL, test_points TEXT NOT NULL, error REAL NOT NULL, mpe REAL NOT NULL, pass INTEGER NOT NULL,
  inspector TEXT NOT NULL, certificate TEXT NOT NULL, seal TEXT NOT NULL, evidence TEXT, recorded_at INTEGER NOT NULL,
  UNIQUE (list_id, device_id)
);
CREATE TABLE IF NOT EXISTS sampling_decisions (
  lot_id TEXT PRIMARY KEY REFERENCES sampling_lots(id), outcome TEXT NOT NULL, action TEXT NOT NULL, due_date TEXT,
  basis TEXT NOT NULL, evidence TEXT NOT NULL, decided_at INTEGER NOT NULL, decided_by TEXT NOT NULL,
  signed_by TEXT, signed_at INTEGER, digest TEXT
);
CREATE TABLE IF NOT EXISTS sampling_audit (
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sampling_audit_subject ON sampling_audit(subject, id);
CREATE TRIGGER IF NOT EXISTS verifications_immutable BEFORE UPDATE ON verifications BEGIN SELECT RAISE(ABORT, 'verification records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS verifications_keep BEFORE DELETE ON verifications BEGIN SELECT RAISE(ABORT, 'verification records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS decisions_signed BEFORE UPDATE ON sampling_decisions WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'signed decisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS decisions_keep BEFORE DELETE ON sampling_decisions WHEN OLD.signed_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'signed decisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON sampling_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_keep BEFORE DELETE ON sampling_audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
`;

export function prepareStatements(db: Db) {
  db.exec(SAMPLING_SCHEMA);
  return {
    insertLot: db.prepare(`INSERT OR IGNORE INTO sampling_lots (id, region, kind, model, accuracy_class, from_date, to_date, members, created_at, created_by)
      VALUES (@id, @region, @kind, @model, @accuracyClass, @from, @to, @members, @createdAt, @createdBy)`),
    lot: db.prepare(`SELECT * FROM sampling_lots WHERE id = ?`),
    lots: db.prepare(`SELECT * FROM sampling_lots ORDER BY created_at, id`),
    setPlan: db.prepare(`UPDATE sampling_lots SET plan = ? WHERE id = ?`),
    setStatus: db.prepare(`UPDATE sampling_lots SET status = ? WHERE id = ?`),
    insertList: db.prepare(`INSERT INTO sampling_lists (id, lot_id, purpose, seed, method, inspector, region, items, created_at, created_by)
      VALUES (@id, @lotId, @purpose, @seed, @method, @inspector, @region, @items, @createdAt, @createdBy)`),
    list: db.prepare(`SELECT * FROM sampling_lists WHERE id = ?`),
    lists: db.prepare(`SELECT * FROM sampling_lists ORDER BY created_at, id`),
    listsOfLot: db.prepare(`SELECT * FROM sampling_lists WHERE lot_id = ? ORDER BY purpose`),
    insertResult: db.prepare(`INSERT INTO verifications (list_id, lot_id, device_id, date, test_points, error, mpe, pass, inspector, certificate, seal, evidence, recorded_at)
      VALUES (@listId, @lotId, @deviceId, @date, @testPoints, @error, @mpe, @pass, @inspector, @certificate, @seal, @evidence, @recordedAt)`),
    result: db.prepare(`SELECT * FROM verifications WHERE list_id = ? AND device_id = ?`),
    resultsOfList: db.prepare(`SELECT * FROM verifications WHERE list_id = ? ORDER BY id`),
    lastVerified: db.prepare(`SELECT device_id, max(date) AS date FROM verifications GROUP BY device_id`),
    // each device's newest test (by date, then by the order recorded)
    latestResults: db.prepare(`SELECT device_id, date, error, mpe FROM verifications v
      WHERE id = (SELECT id FROM verifications w WHERE w.device_id = v.device_id ORDER BY date DESC, id DESC LIMIT 1)`),
    upsertDecision: db.prepare(`INSERT INTO sampling_decisions (lot_id, outcome, action, due_date, basis, evidence, decided_at, decided_by)
      VALUES (@lotId, @outcome, @action, @dueDate, @basis, @evidence, @decidedAt, @decidedBy)
      ON CONFLICT(lot_id) DO UPDATE SET outcome=excluded.outcome, action=excluded.action, due_date=excluded.due_date, basis=excluded.basis,
        evidence=excluded.evidence, decided_at=excluded.decided_at, decided_by=excluded.decided_by`),
    decision: db.prepare(`SELECT * FROM sampling_decisions WHERE lot_id = ?`),
    // signed decisions on earlier lots of one product, in signing order: the switching history
    productHistory: db.prepare(`SELECT l.plan, d.outcome, json_extract(d.evidence, '$.failures') AS failures FROM sampling_decisions d JOIN sampling_lots l ON l.id = d.lot_id
      WHERE d.signed_at IS NOT NULL AND l.region = ? AND l.kind = ? AND l.model = ? AND l.accuracy_class = ? AND l.id != ? ORDER BY d.signed_at, d.lot_id`),
    sign: db.prepare(`UPDATE sampling_decisions SET signed_by = ?, signed_at = ?, digest = ? WHERE lot_id = ? AND signed_at IS NULL`),
    rejectedMembers: db.prepare(`SELECT members FROM sampling_lots WHERE status = 'rejected'`),
    audit: db.prepare(`INSERT INTO sampling_audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`),
    auditOf: db.prepare(`SELECT at, actor, action, subject, detail FROM sampling_audit WHERE subject = ? ORDER BY id`),
  };
}
export type Statements = ReturnType<typeof prepareStatements>;

export interface LotRow {
  id: string; region: string; kind: string; model: string; accuracy_class: string; from_date: string; to_date: string;
  members: string; status: string; plan: string | null; created_at: number; created_by: string;
}
export interface ListRow {
  id: string; lot_id: string; purpose: string; seed: number | null; method: string | null; inspector: string; region: string;
  items: string; created_at: number; created_by: string;
}
export interface ResultRow {
  id: number; list_id: string; lot_id: string; device_id: string; date: string; test_points: string; error: number; mpe: number;
  pass: number; inspector: string; certificate: string; seal: string; evidence: string | null; recorded_at: number;
}
export interface DecisionRow {
  lot_id: string; outcome: string; action: string; due_date: string | null; basis: string; evidence: string; decided_at: number;
  decided_by: string; signed_by: string | null; signed_at: number | null; digest: string | null;
}
