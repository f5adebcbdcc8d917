import type { InstrumentMonitor } from './monitor.js';
import { pOutOfTolerance } from './probability.js';

/**
 * A recorded verification updates the instrument's current state: the measured error, with the
 * test's standard uncertainty (default MPE/6, i.e. a reference at most a third of the MPE at
 * k = 2, the usual test-uncertainty ratio), is fused with the telemetry estimate by inverse-variance
 * weighting, and P(out of tolerance) recomputed. The next telemetry estimate replaces it: the
 * estimators do not carry a verification forward. Returns the states before and after, and the
 * offset (MPE units) between the verified value and the telemetry estimate.
 */
export interface VerificationInput {
  /** ms */
  at: number;
  /** fraction */
  error: number;
  /** fraction, the in-service MPE */
  mpe: number;
  /** fraction, standard uncertainty of the measured error */
  u?: number;
}

export function recordVerification(monitor: InstrumentMonitor, v: VerificationInput): { before: { r: number; sd: number }; after: { r: number; sd: number }; offset: number } {
  const before = { r: monitor.r, sd: monitor.sd };
  const rv = v.error / v.mpe;
  const sv = Math.max((v.u ?? v.mpe / 6) / v.mpe, 1e-6);
  let r = rv;
  let sd = sv;
  if (Number.isFinite(before.sd) && before.sd > 0 && monitor.n > 0) {
    const w1 = 1 / (before.sd * before.sd);
    const w2 = 1 / (sv * sv);
    r = (before.r * w1 + rv * w2) / (w1 + w2);
    sd = Math.sqrt(1 / (w1 + w2));
  }
  monitor.r = r;
  monitor.sd = sd;
  monitor.pOut = pOutOfTolerance(r, sd);
  if (v.at > monitor.ts) monitor.ts = v.at;
  return { before, after: { r, sd }, offset: monitor.n > 0 ? rv - before.r : 0 };
}
