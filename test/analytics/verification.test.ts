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

  it('fades with time: two years on, the telemetry is the state again', () => {
    const m = biased();
    recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
    m.observe(T0 + 21 * DAY + 730 * DAY, 0.9, 0.3);
    // verified variance 1/36 + 1² × 2 years against 0.09: the telemetry carries 96 % of the weight
    expect(m.r).toBeGreaterThan(0.85);
    expect(m.verified).not.toBeNull();
  });

  it('ends when the telemetry contradicts it: the instrument changed after the test', () => {
    const m = biased();
    recordVerification(m, { at: T0 + 21 * DAY, error: 0, mpe: 0.02 });
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
