import type { InstrumentMonitor } from './monitor.js';

/**
 * A recorded verification becomes part of the instrument's state: the measured error, with the
 * test's standard uncertainty (default MPE/6, i.e. a reference at most a third of the MPE at
 * k = 2, the usual test-uncertainty ratio), is fused with the telemetry estimate by inverse-variance
 * weighting, and P(out of tolerance) recomputed. The monitor carries it forward into later
 * estimates, its uncertainty growing with time, until telemetry contradicts it (InstrumentMonitor.verify).
 * Returns the states before and after, and the offset (MPE units) between the verified value and
 * the telemetry estimate.
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
  // a result that is not a number cannot speak for the instrument: it leaves the state as it was
  if (!Number.isFinite(v.error) || !(v.mpe > 0) || !Number.isFinite(v.mpe) || !Number.isFinite(v.at)) return { before, after: before, offset: 0 };
  const rv = v.error / v.mpe;
  const sv = Math.max((v.u ?? v.mpe / 6) / v.mpe, 1e-6);
  monitor.verify({ at: v.at, r: rv, sd: sv });
  const t = monitor.telemetry;
  return { before, after: { r: monitor.r, sd: monitor.sd }, offset: t ? rv - t.r : 0 };
}
