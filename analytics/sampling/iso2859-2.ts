import { hypergeomCdf } from './hypergeometric.js';
import { SamplingErrors } from './errors.js';

/**
 * Plans for isolated lots indexed by limiting quality (ISO 2859-2 / GB/T 2828.2, procedure A),
 * derived exactly from the hypergeometric distribution instead of read from its tables: the
 * smallest sample size n, then the acceptance number c, such that a lot holding
 * D = ceil(LQ·N) nonconforming instruments is accepted with probability at most β (the
 * consumer's risk; 10 % in the standard's tables, 5 % for §35 MessEV's "95 %").
 */
export interface LqPlan {
  scheme: 'iso2859-2';
  lotSize: number;
  /** fraction nonconforming the consumer must reject */
  lq: number;
  /** consumer's risk: P(accept | D) at most this */
  beta: number;
  /** nonconforming instruments in a lot at the limiting quality, ceil(LQ·N) */
  defectivesAtLq: number;
  sampleSize: number;
  accept: number;
  reject: number;
  /** P(accept | D = defectivesAtLq) for the plan */
  pAcceptAtLq: number;
  hundredPercent: boolean;
}

export interface LqOptions {
  lotSize: number;
  /** fraction, 0 < lq < 1 */
  lq: number;
  /** default 0.10 */
  beta?: number;
  /** nonconforming count that defines the limiting quality, instead of ceil(lq·N) */
  defectives?: number;
  /** fix c instead of choosing it */
  acceptance?: number;
  /** also protect the producer: P(accept | fraction `quality`) ≥ 1 − alpha; c then grows as needed */
  producer?: { quality: number; alpha: number };
}

/** P(accept) of the plan (n, c) for a lot of N holding D nonconforming: one point of the OC curve. */
export const pAccept = (N: number, n: number, c: number, D: number): number => hypergeomCdf(c, N, D, n);

export function lqPlan(o: LqOptions): LqPlan {
  const N = o.lotSize;
  const beta = o.beta ?? 0.1;
  if (!Number.isInteger(N) || N < 1) throw SamplingErrors.make('SMP_PLAN_INVALID', `lot size ${N}`);
  if (!(o.lq > 0 && o.lq < 1) || !(beta > 0 && beta < 1)) throw SamplingErrors.make('SMP_PLAN_INVALID', 'LQ and β must lie in (0, 1)');
  // the guard keeps a product such as 0.07 × 100 = 7.000000000000001 from counting one more
  const D = o.defectives ?? Math.ceil(o.lq * N - 1e-9);
  const Dp = o.producer ? Math.floor(o.producer.quality * N) : 0;
  for (let n = 1; n <= N; n++) {
    let c: number;
    if (o.acceptance !== undefined) {
      c = o.acceptance;
      if (pAccept(N, n, c, D) > beta) continue;
    } else {
      // largest c keeping the consumer's risk, since P(accept) grows with c
      c = -1;
      while (c + 1 < n && pAccept(N, n, c + 1, D) <= beta) c++;
      if (c < 0) continue;
      if (o.producer && pAccept(N, n, c, Dp) < 1 - o.producer.alpha) continue;
      if (!o.producer) c = 0;
    }
    return { scheme: 'iso2859-2', lotSize: N, lq: o.lq, beta, defectivesAtLq: D, sampleSize: n, accept: c, reject: c + 1, pAcceptAtLq: pAccept(N, n, c, D), hundredPercent: n >= N };
  }
  throw SamplingErrors.make('SMP_PLAN_INVALID', `no plan with c = ${o.acceptance ?? 0} meets β = ${beta} for N = ${N}`);
}

export interface OcPoint {
  /** fraction nonconforming in the lot */
  fraction: number;
  defectives: number;
  pAccept: number;
}

/** The plan's operating characteristic over lot quality, exact for the finite lot. */
export function ocCurve(N: number, n: number, c: number, points = 41, maxFraction?: number): OcPoint[] {
  const top = Math.min(1, maxFraction ?? Math.max(0.05, (4 * (c + 1)) / n));
  const out: OcPoint[] = [];
  let last = -1;
  for (let k = 0; k < points; k++) {
    const D = Math.round(((k / (points - 1)) * top) * N);
    if (D === last) continue;
    last = D;
    out.push({ fraction: D / N, defectives: D, pAccept: pAccept(N, n, c, D) });
  }
  return out;
}
