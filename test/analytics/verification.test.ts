import { describe, expect, it } from 'vitest';
import { InstrumentMonitor } from '../../analytics/state/monitor.js';
import { recordVerification } from '../../analytics/state/verification.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** a monitor whose telemetry has said r = 0.9 ± 0.3 MPE for three weeks */
function biased(): InstrumentMonitor {
  const m = new InstrumentMonitor();
  for (let d = 0; d < 21; d++) m.observe(T0 + d * DAY, 0.9, 0.3);
  return m;
}

describe('a recorded verification', () => {
  it('that is not a number (an infinite error from a zero reference) leaves the state as it was', () => {
    const m = biased();
    const before = { r: m.r, sd: m.sd, pOut: m.pOut };
    recordVerification(m, { at: T0 + 21 * DAY, error: Infinity, mpe: 0.02 });
    recordVerification(m, { at: T0 + 21 * DAY, error: Number.NaN, mpe: 0.02 });
    m.observe(T0 + 22 * DAY, 0.9, 0.3);
    expect(m.r).toBeCloseTo(before.r, 9);
    expect(m.pOut).toBeCloseTo(before.pOut, 9);
    expect(m.verified).toBeNull();
  });
  it('is fused with the telemetry and carried into the estimates that follow', () => {
    const m = biased();
    const pBefore = m.pOut;
    // tested in the field: error 0, MPE 2 %, default test uncertainty MPE/6
    const r = recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
    expect(r.offset).toBeCloseTo(-0.9, 9);
    expect(r.after.r).toBeLessThan(0.3);
    // the next day's estimate says the same as before: the verification still holds it down
    m.observe(T0 + 22 * DAY, 0.9, 0.3);
    expect(m.r).toBeLessThan(0.3);
    expect(m.sd).toBeLessThan(0.3);
    expect(m.pOut).toBeLessThan(pBefore);
    expect(m.telemetry).toEqual({ r: 0.9, sd: 0.3 });
  });

  it('fades with time: five years on, the telemetry is the state again', () => {
    const m = biased();
    recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
    m.observe(T0 + 21 * DAY + 5 * 365 * DAY, 0.9, 0.3);
    // verified variance 1/36 + 0.5² × 5 years against 0.09: the telemetry carries 93 % of the weight
    expect(m.r).toBeGreaterThan(0.82);
    expect(m.r).toBeLessThan(0.9);
    expect(m.verified).not.toBeNull();
  });

  it('corrects a telemetry estimate that says out of tolerance when the test says otherwise, and keeps doing so', () => {
    const m = new InstrumentMonitor();
    for (let d = 0; d < 21; d++) m.observe(T0 + d * DAY, 1.6, 0.2);
    expect(m.pOut).toBeGreaterThan(0.99);
    recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
    expect(m.verified).not.toBeNull();
    expect(m.pOut).toBeLessThan(0.5);
    // the estimator's offset persists; it is what the test corrects, not a change of the instrument
    for (let d = 22; d < 40; d++) m.observe(T0 + d * DAY, 1.6, 0.2);
    expect(m.verified).not.toBeNull();
    expect(m.pOut).toBeLessThan(0.5);
  });

  it('ignores a test older than the one it carries, and leaves estimates from before the test alone', () => {
    const m = biased();
    recordVerification(m, { at: T0 + 20 * DAY, error: 0, mpe: 0.02 });
    recordVerification(m, { at: T0 + 10 * DAY, error: 0.04, mpe: 0.02 });
    expect(m.verified).toMatchObject({ at: T0 + 20 * DAY, r: 0 });
    // a late estimate for day 15 (before the test): the telemetry alone
    m.observe(T0 + 15 * DAY, 0.9, 0.3);
    expect(m.r).toBe(0.9);
    expect(m.verified).not.toBeNull();
    m.observe(T0 + 22 * DAY, 0.9, 0.3);
    expect(m.r).toBeLessThan(0.3);
  });

  it('ends when the telemetry moves away from where it stood at the test: the instrument changed since', () => {
    const m = biased();
    recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
    m.observe(T0 + 22 * DAY, 0.9, 0.3); // where the telemetry stands once tested
    expect(m.verified).not.toBeNull();
    m.observe(T0 + 30 * DAY, 3, 0.2);
    expect(m.verified).toBeNull();
    expect(m.r).toBe(3);
    expect(m.sd).toBe(0.2);
    m.observe(T0 + 31 * DAY, 3.1, 0.2);
    expect(m.r).toBe(3.1);
  });

  it('stands on its own where no telemetry estimate exists yet', () => {
    const m = new InstrumentMonitor();
    recordVerification(m, { at: T0, error: 0.03, mpe: 0.02 });
    expect(m.r).toBeCloseTo(1.5, 9);
    expect(m.sd).toBeCloseTo(1 / 6, 9);
    expect(m.pOut).toBeGreaterThan(0.99);
  });
});
