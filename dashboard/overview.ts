import { KINDS, type Kind, type Region } from '../ingest/readings.js';
import type { Device } from '../registry/registry.js';
import type { AnalyticsView } from './types.js';

const DAY = 86_400_000;

export const GRADE_KEYS = ['A', 'B', 'C', 'D', 'none'] as const;
export type GradeKey = (typeof GRADE_KEYS)[number];

export interface Overview {
  regions: readonly Region[] | 'all';
  /** instruments by kind and grade ('none': not analysed yet) */
  instruments: Record<Kind, Record<GradeKey, number>>;
  totals: Record<GradeKey, number>;
  /** unresolved alerts by severity and status */
  alerts: { bySeverity: Record<string, number>; byStatus: Record<string, number> };
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

/**
 * The overview of one scope, computed on each request: grades counted over the registry's
 * devices, alerts and orders counted in SQL (AlertBook.summary, OrderBook.count), so its cost
 * does not grow with the number of alerts read.
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

  const today = Math.floor(now / DAY) * DAY;
  const since = today - (days - 1) * DAY;
  const summary = analytics.alerts.summary({ regions, fromMs: since, toMs: today + DAY });
  const bySeverity: Record<string, number> = { critical: 0, major: 0, minor: 0, warning: 0 };
  const byStatus: Record<string, number> = { open: 0, acknowledged: 0, latched: 0 };
  for (const { status, severity, n } of summary.unresolved) {
    bySeverity[severity] = (bySeverity[severity] ?? 0) + n;
    byStatus[status] = (byStatus[status] ?? 0) + n;
  }
  const perDay = new Array<number>(days).fill(0);
  for (const { day, n } of summary.perDay) perDay[day - since / DAY] = n;
  const openOrders = analytics.orders.count({ regions, status: 'open' });

  return {
    regions: regions ?? 'all',
    instruments,
    totals,
    alerts: { bySeverity, byStatus },
    orders: { open: openOrders },
    alertsPerDay: perDay.map((count, i) => ({ day: since + i * DAY, count })),
  };
}
