import { pageById, scopeFilter, type Db } from '../../lib/sqlite.js';
import type { Kind, Region } from '../../ingest/readings.js';

/**
 * Alerts with a lifecycle (ISA-18.2 style): open → acknowledged → resolved, and latched when the
 * condition has gone but nobody has acknowledged it yet. One active alert per device and type;
 * a cap per device so one broken instrument cannot flood the list; every transition stored
 * with who, when and why, and handed to listeners (the live stream, MQTT `alerts/{region}`).
 */
export const ALERT_TYPES = ['out_of_tolerance', 'tamper', 'step', 'drift', 'silent', 'clock_skew', 'quarantine_burst'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export const ALERT_STATUSES = ['open', 'acknowledged', 'latched', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export type Severity = 'critical' | 'major' | 'minor' | 'warning';

export const SEVERITY: { readonly [T in AlertType]: Severity } = {
  out_of_tolerance: 'critical',
  tamper: 'critical',
  step: 'major',
  drift: 'minor',
  silent: 'warning',
  clock_skew: 'warning',
  quarantine_burst: 'warning',
};

export interface Alert {
  id: number;
  deviceId: string;
  region: Region;
  kind: Kind;
  type: AlertType;
  severity: Severity;
  status: AlertStatus;
  /** ms */
  openedAt: number;
  /** ms */
  updatedAt: number;
  /** whether the condition still holds */
  active: boolean;
  summary: { zh: string; en: string };
  evidence: Record<string, unknown>;
}

export interface AlertSubject {
  deviceId: string;
  region: Region;
  kind: Kind;
}

export interface AlertQuery {
  status?: AlertStatus | undefined;
  regions?: readonly Region[] | undefined;
  kind?: Kind | undefined;
  type?: AlertType | undefined;
  severity?: Severity | undefined;
  deviceId?: string | undefined;
  /** id: page through older alerts */
  cursor?: number | undefined;
  limit: number;
}

export type AlertListener = (a: Alert, change: 'opened' | 'updated') => void;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, severity TEXT NOT NULL,
  status TEXT NOT NULL, active INTEGER NOT NULL, opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  summary TEXT NOT NULL, evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_device ON alerts(device_id, type, status);
CREATE INDEX IF NOT EXISTS alerts_region ON alerts(region, status, id);
CREATE INDEX IF NOT EXISTS alerts_opened ON alerts(opened_at);
CREATE TABLE IF NOT EXISTS alert_history (
  alert_id INTEGER NOT NULL REFERENCES alerts(id), at INTEGER NOT NULL, status TEXT NOT NULL,
  actor TEXT, comment TEXT
);
CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history(alert_id);
`;

interface Row {
  id: number;
  device_id: string;
  region: string;
  kind: string;
  type: string;
  severity: string;
  status: string;
  active: number;
  opened_at: number;
  updated_at: number;
  summary: string;
  evidence: string;
}

const toAlert = (r: Row): Alert => ({
  id: r.id,
  deviceId: r.device_id,
  region: r.region as Region,
  kind: r.kind as Kind,
  type: r.type as AlertType,
  severity: r.severity as Severity,
  status: r.status as AlertStatus,
  openedAt: r.opened_at,
  updatedAt: r.updated_at,
  active: r.active === 1,
  summary: JSON.parse(r.summary) as Alert['summary'],
  evidence: JSON.parse(r.evidence) as Record<string, unknown>,
});

export interface AlertBookOptions {
  db: Db;
  /** active alerts per device beyond which new ones are suppressed (and counted) */
  capPerDevice?: number;
}

export class AlertBook {
  readonly #db: Db;
  readonly #cap: number;
  /** active (not resolved) alerts by `${deviceId}|${type}` */
  readonly #active = new Map<string, Alert>();
  readonly #perDevice = new Map<string, number>();
  readonly #listeners = new Set<AlertListener>();
  readonly #st;
  suppressed = 0;

  constructor(opts: AlertBookOptions) {
    this.#db = opts.db;
    this.#cap = opts.capPerDevice ?? 4;
    this.#db.exec(SCHEMA);
    this.#st = {
      insert: this.#db.prepare(`INSERT INTO alerts (device_id, region, kind, type, severity, status, active, opened_at, updated_at, summary, evidence)
        VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, ?, ?)`),
      update: this.#db.prepare(`UPDATE alerts SET status = ?, active = ?, updated_at = ?, summary = ?, evidence = ? WHERE id = ?`),
      history: this.#db.prepare(`INSERT INTO alert_history (alert_id, at, status, actor, comment) VALUES (?, ?, ?, ?, ?)`),
      get: this.#db.prepare(`SELECT * FROM alerts WHERE id = ?`),
      historyOf: this.#db.prepare(`SELECT at, status, actor, comment FROM alert_history WHERE alert_id = ? ORDER BY rowid`),
    };
    for (const r of this.#db.prepare(`SELECT * FROM alerts WHERE status != 'resolved'`).all() as Row[]) this.#index(toAlert(r));
  }

  #index(a: Alert): void {
    this.#active.set(`${a.deviceId}|${a.type}`, a);
    this.#perDevice.set(a.deviceId, (this.#perDevice.get(a.deviceId) ?? 0) + 1);
  }

  #unindex(a: Alert): void {
    this.#active.delete(`${a.deviceId}|${a.type}`);
    const n = (this.#perDevice.get(a.deviceId) ?? 1) - 1;
    if (n > 0) this.#perDevice.set(a.deviceId, n);
    else this.#perDevice.delete(a.deviceId);
  }

  onChange(l: AlertListener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  #emit(a: Alert, change: 'opened' | 'updated'): void {
    for (const l of this.#listeners) l(a, change);
  }

  #save(a: Alert, actor: string | null, comment: string | null): void {
    this.#st.update.run(a.status, a.active ? 1 : 0, a.updatedAt, JSON.stringify(a.summary), JSON.stringify(a.evidence), a.id);
    this.#st.history.run(a.id, a.updatedAt, a.status, actor, comment);
  }

  /** The condition holds at `at`: opens an alert, or refreshes the active one (a latched one opens again). */
  raise(s: AlertSubject, type: AlertType, at: number, summary: Alert['summary'], evidence: Record<string, unknown>): Alert | null {
    const existing = this.#active.get(`${s.deviceId}|${type}`);
    if (existing) {
      const reopened = !existing.active;
      existing.active = true;
      existing.summary = summary;
      existing.evidence = evidence;
      if (existing.status === 'latched') existing.status = 'open';
      if (reopened) {
        existing.updatedAt = at;
        this.#save(existing, null, 'condition returned');
        this.#emit(existing, 'updated');
      }
      return existing;
    }
    if ((this.#perDevice.get(s.deviceId) ?? 0) >= this.#cap) {
      this.suppressed++;
      return null;
    }
    const info = this.#st.insert.run(s.deviceId, s.region, s.kind, type, SEVERITY[type], at, at, JSON.stringify(summary), JSON.stringify(evidence));
    const a: Alert = { id: Number(info.lastInsertRowid), ...s, type, severity: SEVERITY[type], status: 'open', openedAt: at, updatedAt: at, active: true, summary, evidence };
    this.#st.history.run(a.id, at, 'open', null, null);
    this.#index(a);
    this.#emit(a, 'opened');
    return a;
  }

  /** The condition has gone (the caller applies hysteresis): an acknowledged alert resolves, an open one latches. */
  clear(deviceId: string, type: AlertType, at: number): void {
    const a = this.#active.get(`${deviceId}|${type}`);
    if (!a || !a.active) return;
    a.active = false;
    a.updatedAt = at;
    if (a.status === 'acknowledged') {
      a.status = 'resolved';
      this.#unindex(a);
    } else a.status = 'latched';
    this.#save(a, null, 'condition cleared');
    this.#emit(a, 'updated');
  }

  /** A person acknowledges: a latched alert is then resolved, an open one acknowledged. */
  acknowledge(id: number, actor: string, comment: string, at: number): Alert | null {
    const a = this.#byId(id);
    if (!a || a.status === 'resolved' || a.status === 'acknowledged') return a;
    a.status = a.status === 'latched' ? 'resolved' : 'acknowledged';
    a.updatedAt = at;
    if (a.status === 'resolved') this.#unindex(a);
    this.#save(a, actor, comment);
    this.#emit(a, 'updated');
    return a;
  }

  /** A person resolves (e.g. the instrument was replaced or verified). */
  resolve(id: number, actor: string, comment: string, at: number): Alert | null {
    const a = this.#byId(id);
    if (!a || a.status === 'resolved') return a;
    a.status = 'resolved';
    a.active = false;
    a.updatedAt = at;
    this.#unindex(a);
    this.#save(a, actor, comment);
    this.#emit(a, 'updated');
    return a;
  }

  #byId(id: number): Alert | null {
    for (const a of this.#active.values()) if (a.id === id) return a;
    const r = this.#st.get.get(id) as Row | undefined;
    return r ? toAlert(r) : null;
  }

  get(id: number): (Alert & { history: { at: number; status: string; actor: string | null; comment: string | null }[] }) | null {
    const r = this.#st.get.get(id) as Row | undefined;
    if (!r) return null;
    return { ...toAlert(r), history: this.#st.historyOf.all(id) as { at: number; status: string; actor: string | null; comment: string | null }[] };
  }

  isActive(deviceId: string, type: AlertType): boolean {
    return this.#active.get(`${deviceId}|${type}`)?.active === true;
  }

  activeCount(): number {
    return this.#active.size;
  }

  /**
   * Counts for an overview, in SQL rather than by reading rows: unresolved alerts by status and
   * severity, and alerts opened per UTC day in [fromMs, toMs) (day = floor(ms / 86 400 000)).
   */
  summary(q: { regions?: readonly Region[] | undefined; fromMs: number; toMs: number }): { unresolved: { status: AlertStatus; severity: string; n: number }[]; perDay: { day: number; n: number }[] } {
    const { where, args, none } = scopeFilter({ regions: q.regions });
    if (none) return { unresolved: [], perDay: [] };
    const scope = where.map((w) => ` AND ${w}`).join('');
    const unresolved = this.#db.prepare(`SELECT status, severity, count(*) AS n FROM alerts WHERE status != 'resolved'${scope} GROUP BY status, severity`).all(...args) as { status: AlertStatus; severity: string; n: number }[];
    const perDay = this.#db.prepare(`SELECT opened_at / 86400000 AS day, count(*) AS n FROM alerts WHERE opened_at >= ? AND opened_at < ?${scope} GROUP BY day ORDER BY day`).all(q.fromMs, q.toMs, ...args) as { day: number; n: number }[];
    return { unresolved, perDay };
  }

  /** Newest first, keyset-paged by id. */
  list(q: AlertQuery): { items: Alert[]; nextCursor: number | null } {
    const { rows, nextCursor } = pageById<Row>(this.#db, 'alerts', {
      equals: { status: q.status, kind: q.kind, type: q.type, severity: q.severity, device_id: q.deviceId },
      regions: q.regions,
      cursor: q.cursor,
      limit: q.limit,
    });
    return { items: rows.map(toAlert), nextCursor };
  }

}
