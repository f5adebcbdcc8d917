import type { LotPlan } from './plans.js';
import { messevDecide } from './messev.js';
import { variablesDecide } from './variables.js';

export interface SampleResult {
  deviceId: string;
  pass: boolean;
  /** fraction */
  error: number;
  /** fraction */
  mpe: number;
}

export type Verdict =
  | { outcome: 'accept' | 'reject'; failures: number; inspected: number; basis: Record<string, unknown> }
  | { outcome: 'pending'; failures: number; inspected: number; basis: Record<string, unknown> };

/**
 * The lot decision from the random sample's results only (the targeted list never counts).
 * Attributes plans: reject as soon as failures reach Re (ISO 2859-1, 10.3: the lot is not accepted
 * once Re is reached, the rest of the sample need not be inspected); accept when the whole sample
 * is in with failures ≤ Ac. §35 MessEV and variables plans need the whole sample.
 */
export function decide(plan: LotPlan, lotSize: number, results: readonly SampleResult[]): Verdict {
  const failures = results.filter((r) => !r.pass).length;
  const inspected = results.length;
  const complete = inspected >= plan.sampleSize;
  const req = plan.request;
  if (req.scheme === 'iso3951-1') {
    if (!complete) return { outcome: 'pending', failures, inspected, basis: { needed: plan.sampleSize } };
    const k = plan.k as number;
    if (inspected >= lotSize) {
      // every instrument of the lot inspected: its fraction nonconforming is known, not estimated,
      // and the lot is acceptable when that fraction is within the AQL
      const allowed = Math.floor(req.aql * lotSize + 1e-9);
      return { outcome: failures <= allowed ? 'accept' : 'reject', failures, inspected, basis: { scheme: req.scheme, k, hundredPercent: true, allowed } };
    }
    const d = variablesDecide(results.map((r) => r.error / r.mpe), k);
    return { outcome: d.accept ? 'accept' : 'reject', failures, inspected, basis: { scheme: req.scheme, k, ...d } };
  }
  if (req.scheme === 'messev') {
    if (!complete) return { outcome: 'pending', failures, inspected, basis: { needed: plan.sampleSize } };
    const d = messevDecide({ lotSize, sampleSize: inspected, failures, conforming: req.conforming, confidence: req.confidence });
    return { outcome: d.accept ? 'accept' : 'reject', failures, inspected, basis: { scheme: req.scheme, ...d } };
  }
  const ac = plan.accept as number;
  const re = plan.reject as number;
  const basis = { scheme: req.scheme, sampleSize: plan.sampleSize, accept: ac, reject: re };
  if (failures >= re) return { outcome: 'reject', failures, inspected, basis };
  if (complete && failures <= ac) return { outcome: 'accept', failures, inspected, basis };
  return { outcome: 'pending', failures, inspected, basis: { ...basis, needed: plan.sampleSize } };
}
