import type { Alert, AlertQuery, AlertStatus } from '../analytics/state/alerts.js';
import { KINDS, type Kind, type Region } from '../ingest/readings.js';
import type { Device } from '../registry/registry.js';
import type { AnalyticsView } from './types.js';

const DAY = 86_400_000;
/** alerts read per overview at most; beyond it the counts are marked truncated */
const MAX_ALERTS = 20_000;
const PAGE = 500;

export const GRADE_KEYS = ['A', 'B', 'C', 'D', 'none'] as const;
export type GradeKey = (typeof GRADE_KEYS)[number];

export interface Overview {
  regions: readonly Region[] | 'all';
  /** instruments by kind and grade ('none': not analysed yet) */
  instruments: Record<Kind, Record<GradeKey, number>>;
  totals: Record<GradeKey, number>;
  /** unresolved alerts by severity and status */
  alerts: { bySeverity: Record<string, number>; byStatus: Record<string, number>; truncated: boolean };
  orders: { open: number };
  /** alerts opened per day, oldest first; day = ms of its UTC midnight */
  alertsPerDay: { day: number; count: number }[];
}

/** Lots counted on the overview: open ones, and those among them whose batch notice date has come. */
export interface LotsDue {
  open: number;
  due: number;
}

/**
 * A lot is due once its batch notice date (the rule's notice period before the oldest member's
 * verification falls due, analytics/sampling/rules.json) has passed and no decision is signed.
 */
export function lotsDue(lots: readonly { status: string; noticeDate: string }[], now: number): LotsDue {
  const today = new Date(now).toISOString().slice(0, 10);
  const open = lots.filter((l) => l.status === 'open');
  return { open: open.length, due: open.filter((l) => l.noticeDate <= today).length };
}

function* pages(analytics: AnalyticsView, q: Omit<AlertQuery, 'limit' | 'cursor'>): Generator<Alert[]> {
  let cursor: number | undefined;
  for (let read = 0; read < MAX_ALERTS; read += PAGE) {
    const { items, nextCursor } = analytics.alerts.list({ ...q, cursor, limit: PAGE });
    yield items;
    if (nextCursor === null) return;
    cursor = nextCursor;
  }
}

/**
 * The overview of one scope, computed from the registry and analytics on each request: counts
 * over the registry's devices and the alert table's pages. Alert ids grow with time, so the
 * per-day series stops reading at the first page entirely older than its window.
 */
export function buildOverview(devices: readonly Device[], analytics: AnalyticsView, regions: readonly Region[] | undefined, now: number, days: number): Overview {
  const zero = (): Record<GradeKey, number> => ({ A: 0, B: 0, C: 0, D: 0, none: 0 });
  const instruments = Object.fromEntries(KINDS.map((k) => [k, zero()])) as Record<Kind, Record<GradeKey, number>>;
  const totals = zero();
  for (const d of devices) {
    if (regions && !regions.includes(d.region)) continue;
    const g: GradeKey = analytics.grade(d.id) ?? 'none';
    instruments[d.kind][g]++;
    totals[g]++;
  }

  const bySeverity: Record<string, number> = { critical: 0, major: 0, minor: 0, warning: 0 };
  const byStatus: Record<string, number> = { open: 0, acknowledged: 0, latched: 0 };
  let truncated = false;
  for (const status of ['open', 'acknowledged', 'latched'] as const satisfies readonly AlertStatus[]) {
    let n = 0;
    for (const page of pages(analytics, { status, regions })) {
      for (const a of page) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
      n += page.length;
    }
    byStatus[status] = n;
    if (n >= MAX_ALERTS) truncated = true;
  }

  const today = Math.floor(now / DAY) * DAY;
  const since = today - (days - 1) * DAY;
  const perDay = new Array<number>(days).fill(0);
  for (const page of pages(analytics, { regions })) {
    let older = 0;
    for (const a of page) {
      if (a.openedAt < since) older++;
      else if (a.openedAt < today + DAY) perDay[Math.floor((a.openedAt - since) / DAY)]! += 1;
    }
    if (older === page.length) break;
  }

  const open = analytics.orders.list({ regions, status: 'open', limit: 1 });
  let openOrders = open.items.length;
  // OrderBook offers no count by filter: page through ids only when there is more than one.
  if (open.nextCursor !== null) openOrders = analytics.orders.list({ regions, status: 'open', limit: MAX_ALERTS }).items.length;

  return {
    regions: regions ?? 'all',
    instruments,
    totals,
    alerts: { bySeverity, byStatus, truncated },
    orders: { open: openOrders },
    alertsPerDay: perDay.map((count, i) => ({ day: since + i * DAY, count })),
  };
}
