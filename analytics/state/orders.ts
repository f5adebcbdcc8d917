import { pageById, scopeFilter, type Db } from '../../lib/sqlite.js';
import type { Kind, Region } from '../../ingest/readings.js';
import type { Reason } from './grade.js';

/**
 * Replacement orders (失准更换): issued when the evidence meets the replacement rule, stored with
 * that evidence so the decision can be audited, one open order per instrument.
 */
export interface ReplacementOrder {
  id: number;
  deviceId: string;
  region: Region;
  kind: Kind;
  site: string;
  /** ms, event time of the evidence */
  issuedAt: number;
  /** 'inaccuracy' (P(|error| > MPE) ≥ threshold), 'tamper', or 'nonconformity' (a failed requirement such as repeatability) */
  basis: 'inaccuracy' | 'tamper' | 'nonconformity';
  status: 'open' | 'done' | 'cancelled';
  reasons: Reason[];
  evidence: Record<string, unknown>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS replacement_orders (
  id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, region TEXT NOT NULL, kind TEXT NOT NULL, site TEXT NOT NULL,
  issued_at INTEGER NOT NULL, basis TEXT NOT NULL, status TEXT NOT NULL, reasons TEXT NOT NULL, evidence TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_device ON replacement_orders(device_id, status);
CREATE INDEX IF NOT EXISTS orders_region ON replacement_orders(region, status, id);
`;

interface Row {
  id: number;
  device_id: string;
  region: string;
  kind: string;
  site: string;
  issued_at: number;
  basis: string;
  status: string;
  reasons: string;
  evidence: string;
}

const toOrder = (r: Row): ReplacementOrder => ({
  id: r.id,
  deviceId: r.device_id,
  region: r.region as Region,
  kind: r.kind as Kind,
  site: r.site,
  issuedAt: r.issued_at,
  basis: r.basis as ReplacementOrder['basis'],
  status: r.status as ReplacementOrder['status'],
  reasons: JSON.parse(r.reasons) as Reason[],
  evidence: JSON.parse(r.evidence) as Record<string, unknown>,
});

export class OrderBook {
  readonly #db: Db;
  readonly #open = new Set<string>();
  readonly #st;

  constructor(db: Db) {
    this.#db = db;
    db.exec(SCHEMA);
    this.#st = {
      insert: db.prepare(`INSERT INTO replacement_orders (device_id, region, kind, site, issued_at, basis, status, reasons, evidence) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)`),
      setStatus: db.prepare(`UPDATE replacement_orders SET status = ? WHERE id = ?`),
      get: db.prepare(`SELECT * FROM replacement_orders WHERE id = ?`),
    };
    for (const r of db.prepare(`SELECT device_id FROM replacement_orders WHERE status = 'open'`).all() as { device_id: string }[]) this.#open.add(r.device_id);
  }

  hasOpen(deviceId: string): boolean {
    return this.#open.has(deviceId);
  }

  /** Issues an order unless one is open for the instrument; returns it when issued. */
  issue(o: Omit<ReplacementOrder, 'id' | 'status'>): ReplacementOrder | null {
    if (this.#open.has(o.deviceId)) return null;
    const info = this.#st.insert.run(o.deviceId, o.region, o.kind, o.site, o.issuedAt, o.basis, JSON.stringify(o.reasons), JSON.stringify(o.evidence));
    this.#open.add(o.deviceId);
    return { ...o, id: Number(info.lastInsertRowid), status: 'open' };
  }

  close(id: number, status: 'done' | 'cancelled'): ReplacementOrder | null {
    const r = this.#st.get.get(id) as Row | undefined;
    if (!r) return null;
    this.#st.setStatus.run(status, id);
    this.#open.delete(r.device_id);
    return { ...toOrder(r), status };
  }

  list(q: { regions?: readonly Region[] | undefined; status?: ReplacementOrder['status'] | undefined; deviceId?: string | undefined; limit: number; cursor?: number | undefined }): { items: ReplacementOrder[]; nextCursor: number | null } {
    const { rows, nextCursor } = pageById<Row>(this.#db, 'replacement_orders', { equals: { status: q.status, device_id: q.deviceId }, regions: q.regions, cursor: q.cursor, limit: q.limit });
    return { items: rows.map(toOrder), nextCursor };
  }


  /** orders in a region scope and status (all when unset) */
  count(q: { regions?: readonly Region[] | undefined; status?: ReplacementOrder['status'] | undefined } = {}): number {
    const { where, args, none } = scopeFilter({ regions: q.regions, equals: { status: q.status } });
    if (none) return 0;
    return (this.#db.prepare(`SELECT count(*) AS n FROM replacement_orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`).get(...args) as { n: number }).n;
  }
}
