import { mean, probit, sampleStandardDeviation } from 'simple-statistics';
import betaCdf from '@stdlib/stats-base-dists-beta-cdf';
import { SamplingErrors } from './errors.js';

/**
 * ISO 3951-1 style variables plan, s-method, for results that are measured errors: accept when
 * x̄ + k·s ≤ U and x̄ − k·s ≥ L, here U = +1 and L = −1 in units of the in-service MPE.
 * (n, k) are derived with the normal approximation of Wallis (Schilling & Neubauer, Acceptance
 * Sampling in Quality Control, ch. 8): k = (z_p1·z_β + z_p2·z_α)/(z_α + z_β),
 * n = (1 + k²/2)·((z_α + z_β)/(z_p1 − z_p2))². UNCONFIRMED against the ISO 3951-1 tables, which
 * use the non-central t. Two limits are under combined control (see variablesDecide).
 */
export interface VariablesPlan {
  scheme: 'iso3951-1';
  sampleSize: number;
  k: number;
  /** fraction nonconforming accepted with probability 1 − alpha */
  aql: number;
  lq: number;
  alpha: number;
  beta: number;
  method: 'wallis-normal-approximation';
  unconfirmed: true;
}

export function variablesPlan(o: { aql: number; lq: number; alpha?: number; beta?: number; lotSize?: number }): VariablesPlan {
  const alpha = o.alpha ?? 0.05;
  const beta = o.beta ?? 0.1;
  if (!(o.aql > 0 && o.lq > o.aql && o.lq < 0.5)) throw SamplingErrors.make('SMP_PLAN_INVALID', 'variables plan needs 0 < AQL < LQ < 0.5');
  const z = (p: number) => probit(1 - p);
  const [zp1, zp2, za, zb] = [z(o.aql), z(o.lq), z(alpha), z(beta)];
  const k = (zp1 * zb + zp2 * za) / (za + zb);
  const n = Math.max(3, Math.ceil((1 + (k * k) / 2) * ((za + zb) / (zp1 - zp2)) ** 2));
  return { scheme: 'iso3951-1', sampleSize: o.lotSize ? Math.min(n, o.lotSize) : n, k, aql: o.aql, lq: o.lq, alpha, beta, method: 'wallis-normal-approximation', unconfirmed: true };
}

/**
 * The MVU estimate of the fraction beyond one limit from the s-method's quality statistic
 * Q = (limit distance)/s over n results: B_{n/2−1, n/2−1}(max(0, ½ − ½·Q·√n/(n−1))), the form
 * ISO 3951-1 uses for the p* method (as MIL-STD-414 and ANSI/ASQ Z1.9 do for "Form 2").
 */
function estimatedFraction(q: number, n: number): number {
  const x = Math.max(0, 0.5 - (0.5 * q * Math.sqrt(n)) / (n - 1));
  if (x === 0) return 0;
  if (x >= 1) return 1;
  const a = n / 2 - 1;
  return betaCdf(x, a, a);
}

/**
 * The s-method decision on errors given as multiples of the MPE (error / MPE), with the two
 * limits ±1 under combined control: the estimated fractions beyond each limit are added and
 * compared with p*, the estimate at Q = k. With one side far away this is exactly x̄ ± k·s
 * against that limit; with both sides near, checking each limit against k separately would
 * accept lots with the whole LQ spread over the two sides far more often than β.
 */
export function variablesDecide(
  ratios: readonly number[],
  k: number,
): { accept: boolean; mean: number; sd: number; upper: number; lower: number; pUpper: number; pLower: number; pMax: number } {
  const n = ratios.length;
  if (n < 3) throw SamplingErrors.make('SMP_DECISION_PENDING', 'the s-method needs at least three results');
  const m = mean([...ratios]);
  const s = sampleStandardDeviation([...ratios]);
  const upper = m + k * s;
  const lower = m - k * s;
  if (s === 0) return { accept: upper <= 1 && lower >= -1, mean: m, sd: s, upper, lower, pUpper: m > 1 ? 1 : 0, pLower: m < -1 ? 1 : 0, pMax: estimatedFraction(k, n) };
  const pUpper = estimatedFraction((1 - m) / s, n);
  const pLower = estimatedFraction((m + 1) / s, n);
  const pMax = estimatedFraction(k, n);
  return { accept: pUpper + pLower <= pMax, mean: m, sd: s, upper, lower, pUpper, pLower, pMax };
}
