import { describe, expect, it } from 'vitest';
import { evaluate, trendIsReal } from '../../analytics/state/grade.js';
import { InstrumentMonitor } from '../../analytics/state/monitor.js';
import { pOutOfTolerance } from '../../analytics/state/probability.js';

const DAY = 86_400_000;
const calm = { silent: false, clockSkew: false, quarantined: 0 };

function monitorWith(series: [number, number][]): InstrumentMonitor {
  const m = new InstrumentMonitor();
  series.forEach(([r, sd], i) => m.observe(i * DAY, r, sd));
  return m;
}

describe('P(out of tolerance)', () => {
  it('is the normal tail mass beyond ±1 MPE', () => {
    expect(pOutOfTolerance(0, 0.5)).toBeCloseTo(2 * (1 - 0.97725), 3);
    expect(pOutOfTolerance(1, 0.2)).toBeCloseTo(0.5, 3);
    expect(pOutOfTolerance(1.33, 0.2)).toBeGreaterThan(0.95);
    expect(pOutOfTolerance(-1.33, 0.2)).toBeGreaterThan(0.95);
  });
});

describe('state evaluation', () => {
  it('reads the trend from the estimator\'s own rate where it has one, and only when the rate is more than its noise', () => {
    const withRate = (perDay: number, sd: number) => {
      const m = new InstrumentMonitor();
      for (let i = 0; i < 30; i++) m.observe(i * DAY, 0.3, 0.1, { perDay, sd });
      return m;
    };
    // 0.3 MPE now, rising 0.01 MPE a day: the MPE in 70 days, and the rate is five times its sd
    const real = withRate(0.01, 0.002);
    expect(real.trend!.crossingAt).toBe(29 * DAY + 70 * DAY);
    const ev = evaluate(real, calm, []);
    expect(ev.grade).toBe('C');
    expect(ev.reasons.map((r) => r.code)).toContain('trend_crossing');
    // the same rate at one sd: a projection of noise, not a reason
    expect(trendIsReal(real)).toBe(true);
    expect(trendIsReal(withRate(0.01, 0.01))).toBe(false);
    const noise = evaluate(withRate(0.01, 0.01), calm, []);
    expect(noise.reasons.map((r) => r.code)).not.toContain('trend_crossing');
    expect(noise.grade).toBe('A');
  });

  it('grades an instrument that fails a requirement D, with the requirement as the reason, whatever its error', () => {
    const m = monitorWith(Array.from({ length: 20 }, () => [0.1, 0.1] as [number, number]));
    const failed = [{ code: 'repeatability', zh: '重复性不合格', en: 'Fails repeatability', at: 19 * DAY }];
    const ev = evaluate(m, calm, [], undefined, Infinity, failed);
    expect(ev.grade).toBe('D');
    expect(ev.replace).toBe(true);
    expect(ev.reasons.map((r) => r.code)).toEqual(['repeatability']);
    expect(evaluate(m, calm, []).grade).toBe('A');
  });

  it('grades a healthy instrument A and says why in both languages', () => {
    const ev = evaluate(monitorWith(Array.from({ length: 20 }, () => [0.1, 0.1] as [number, number])), calm, []);
    expect(ev.grade).toBe('A');
    expect(ev.replace).toBe(false);
    expect(ev.reasons[0]!.code).toBe('healthy');
    expect(ev.reasons[0]!.zh).toMatch(/状态良好/);
  });

  it('orders replacement only with enough consistent evidence', () => {
    const m = monitorWith(Array.from({ length: 20 }, (_, i) => [i < 15 ? 0.1 : 1.6, 0.2] as [number, number]));
    expect(m.pOut).toBeGreaterThan(0.95);
    expect(evaluate(m, calm, [], undefined, 1).grade).toBe('C'); // one estimate is not enough
    const ev = evaluate(m, calm, [], undefined, 2);
    expect(ev.grade).toBe('D');
    expect(ev.replace).toBe(true);
    expect(ev.reasons.map((r) => r.code)).toContain('out_of_tolerance');
    const young = monitorWith([[1.6, 0.2], [1.6, 0.2], [1.6, 0.2]]);
    expect(evaluate(young, calm, [], undefined, 3).grade).toBe('C'); // too few estimates yet
  });

  it('replaces on a tamper signature whatever the estimate', () => {
    const ev = evaluate(monitorWith([[0, 0.3]]), calm, [{ code: 'kfactor_change', zh: '脉冲当量改变', en: 'pulse factor changed', at: 0 }]);
    expect(ev.grade).toBe('D');
    expect(ev.reasons[0]!.en).toMatch(/Tamper sign/);
  });

  it('watches a drift heading for the MPE and prioritises it as the crossing nears', () => {
    const slow = monitorWith(Array.from({ length: 30 }, (_, i) => [0.1 + i * 0.004, 0.02] as [number, number]));
    expect(slow.trend!.crossingAt).not.toBeNull();
    expect(evaluate(slow, calm, []).grade).toBe('B');
    const fast = monitorWith(Array.from({ length: 30 }, (_, i) => [0.1 + i * 0.02, 0.02] as [number, number]));
    const ev = evaluate(fast, calm, []);
    expect(ev.grade).toBe('C');
    expect(ev.reasons.map((r) => r.code)).toContain('trend_crossing');
  });

  it('does not project a trend out of noise', () => {
    const noisy = monitorWith(Array.from({ length: 30 }, (_, i) => [(i % 2 ? 0.3 : -0.3) + i * 0.002, 0.5] as [number, number]));
    expect(evaluate(noisy, calm, []).reasons.map((r) => r.code)).not.toContain('trend_crossing');
    // the rule the instrument page uses too, for a Theil–Sen trend with no slope uncertainty
    expect(noisy.trend!.slopeSd).toBeUndefined();
    expect(trendIsReal(noisy)).toBe(false);
  });

  it('puts a silent device or a bad clock on watch', () => {
    const m = monitorWith(Array.from({ length: 10 }, () => [0, 0.1] as [number, number]));
    expect(evaluate(m, { ...calm, silent: true }, []).grade).toBe('B');
    expect(evaluate(m, { ...calm, clockSkew: true }, []).reasons.map((r) => r.code)).toContain('clock_skew');
  });
});

describe('InstrumentMonitor change detection', () => {
  it('reports a step once, in its direction', () => {
    const m = new InstrumentMonitor();
    const found = [];
    for (let i = 0; i < 40; i++) {
      const c = m.observe(i * DAY, (i >= 20 ? 0.8 : 0) + ((i * 7) % 5) * 0.01, 0.1);
      if (c) found.push(c);
    }
    expect(found).toHaveLength(1);
    expect(found[0]!.direction).toBe(1);
    expect(found[0]!.at).toBeGreaterThanOrEqual(20 * DAY);
    expect(found[0]!.at).toBeLessThanOrEqual(21 * DAY);
  });

  it('judges a filter by its innovations, not by estimates that repeat the same evidence every day', () => {
    // a converging filter: its estimate sits 0.85 combined sd from where it settled for two months, while
    // each day brings nothing new (innovations 0): no change. Read as independent estimates, the
    // same series would be a drift (the EWMA of a steady 0.85 sd passes its limit).
    const quiet = new InstrumentMonitor();
    const asEstimates = new InstrumentMonitor();
    let fromInnovations = 0;
    let fromEstimates = 0;
    for (let i = 0; i < 80; i++) {
      const r = i < 20 ? 0 : 0.36;
      if (quiet.observe(i * DAY, r, 0.3, undefined, 0)) fromInnovations++;
      if (asEstimates.observe(i * DAY, r, 0.3)) fromEstimates++;
    }
    expect(fromInnovations).toBe(0);
    expect(fromEstimates).toBeGreaterThan(0);
    // innovations that keep saying the error moved up are a change; a day without one (re-opened) is skipped
    const moving = new InstrumentMonitor();
    let change = null;
    for (let i = 0; i < 40 && !change; i++) change = moving.observe(i * DAY, 0, 0.3, undefined, i < 20 ? 0 : i === 25 ? null : 1.5);
    expect(change?.direction).toBe(1);
  });

  it('names a change that comes with a real trend a drift, keeps saying the drift goes on while it does, and reads a drift from the model\'s rate', () => {
    // daily estimates that climb 0.05 MPE a day from day 20: whichever detector answers first, a drift
    const m = new InstrumentMonitor();
    const found = [];
    for (let i = 0; i < 60; i++) {
      const c = m.observe(i * DAY, (i >= 20 ? (i - 20) * 0.05 : 0) + ((i * 7) % 5) * 0.01, 0.1);
      if (c) found.push(c);
    }
    expect(found[0]?.kind).toBe('drift');
    expect(m.driftContinues).toBe(true);
    // flat again: the drift is over
    for (let i = 60; i < 100; i++) m.observe(i * DAY, 2 + ((i * 7) % 5) * 0.01, 0.1);
    expect(m.driftContinues).toBe(false);
    // a filter with a rate: innovations back at zero once it has learned the rate, and the rate says drift
    const f = new InstrumentMonitor();
    let drift = null;
    for (let i = 0; i < 30 && !drift; i++) drift = f.observe(i * DAY, 0.5, 0.3, { perDay: 0.004, sd: 0.001 }, 0);
    expect(drift?.kind).toBe('drift');
    const g = new InstrumentMonitor();
    let none = null;
    for (let i = 0; i < 30 && !none; i++) none = g.observe(i * DAY, 0.5, 0.3, { perDay: 0.0005, sd: 0.0001 }, 0);
    // significant but immaterial (0.18 MPE a year): no drift
    expect(none).toBeNull();
  });
});
