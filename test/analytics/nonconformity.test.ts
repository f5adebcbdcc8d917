import { describe, expect, it } from 'vitest';
import { createAnalytics } from '../../analytics/engine.js';
import type { Nonconformity, SiteEstimator, SiteOutput } from '../../analytics/estimate/types.js';
import type { ReplacementOrder } from '../../analytics/state/orders.js';
import { ManualClock } from '../../lib/clock.js';
import { openDb } from '../../lib/sqlite.js';
import type { Device } from '../../registry/registry.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 5, 1);
const scale = (n: number): Device => ({ id: `SH-M001-S0${n}`, kind: 'scale', model: 'ACS-30', accuracyClass: 'III', region: 'SH', site: 'SH-M001', role: 'scale', installDate: '2023-01-01', params: { eKg: 0.01, maxKg: 30 }, status: 'active', createdAt: 0 });
const failure = (deviceId: string, day: number, sdE: number): Nonconformity => ({
  deviceId, ts: T + day * DAY, code: 'repeatability', zh: `重复性不合格 ${sdE}e`, en: `Fails repeatability: ${sdE} e`, evidence: { noiseSdE: sdE, lowerSdE: sdE - 0.1, limitE: 0.6, dof: 40 },
});

/**
 * The engine with the market's estimator replaced by a script of what an estimator emits: the
 * port (SiteEstimator) is the engine's only view of a site, so this is the engine as it runs.
 */
function engine(devices: Device[]) {
  const clock = new ManualClock(T);
  const script: ((out: SiteOutput) => void)[] = [];
  const estimator: SiteEstimator = { add() {}, flush: (out) => { for (const step of script.splice(0)) step(out); } };
  const an = createAnalytics({ db: openDb(':memory:'), clock, devicesOfSite: (s) => (s === 'SH-M001' ? devices : []), estimators: { market: () => estimator } });
  const orders: ReplacementOrder[] = [];
  an.onOrder((o) => orders.push(o));
  // a reading of each scale brings the site to life
  an.ingest(devices.map((d) => ({ deviceId: d.id, kind: d.kind, region: d.region, site: d.site, ts: T, seq: 1, receivedAt: T, fields: { zeroKg: 0 }, events: [] })));
  const run = (step: (out: SiteOutput) => void) => {
    script.push(step);
    an.flush();
  };
  const calm = (id: string, fromDay: number, days: number) =>
    run((out) => { for (let i = 0; i < days; i++) out.sample({ deviceId: id, ts: T + (fromDay + i) * DAY, ratio: 0.1, sd: 0.1, error: 0.0001 }); });
  return { an, orders, run, calm };
}

describe('a failed requirement in the engine', () => {
  it('grades D, raises out of tolerance, orders replacement as a nonconformity, and keeps the alert while the error itself is calm', () => {
    const s1 = scale(1);
    const { an, orders, run, calm } = engine([s1]);
    calm(s1.id, 0, 20);
    expect(an.grade(s1.id)).toBe('A');
    run((out) => out.nonconforming(failure(s1.id, 20, 1.2)));
    expect(an.grade(s1.id)).toBe('D');
    expect(an.alerts.isActive(s1.id, 'out_of_tolerance')).toBe(true);
    expect(orders.map((o) => [o.deviceId, o.basis, o.reasons[0]?.code])).toEqual([[s1.id, 'nonconformity', 'repeatability']]);
    // its error estimate is well inside the MPE: three calm samples clear an inaccuracy alert, not this one
    calm(s1.id, 21, 5);
    expect(an.alerts.isActive(s1.id, 'out_of_tolerance')).toBe(true);
    expect(an.grade(s1.id)).toBe('D');
    // signed again with new figures: one reason, the newest figures, still one open order
    run((out) => out.nonconforming(failure(s1.id, 26, 1.5)));
    const reasons = an.state(s1.id)!.reasons.filter((r: { code: string }) => r.code === 'repeatability');
    expect(reasons.map((r: { en: string }) => r.en)).toEqual(['Fails repeatability: 1.5 e']);
    expect(orders).toHaveLength(1);
  });

  it('holds the orders when a second scale of the market fails within the coherence window: a site cause is likelier', () => {
    const [s1, s2] = [scale(1), scale(2)];
    const { an, orders, run, calm } = engine([s1, s2]);
    calm(s1.id, 0, 20);
    calm(s2.id, 0, 20);
    run((out) => out.nonconforming(failure(s1.id, 20, 1.2)));
    run((out) => out.nonconforming(failure(s2.id, 22, 1.1)));
    expect(orders.map((o) => o.deviceId)).toEqual([s1.id]);
    expect(an.grade(s2.id)).toBe('C');
    expect(an.state(s2.id)!.reasons.map((r: { code: string }) => r.code)).toContain('site_incoherent');
  });
});
