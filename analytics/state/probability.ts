import { errorFunction } from 'simple-statistics';

/** Standard normal CDF. */
export function phi(x: number): number {
  return 0.5 * (1 + errorFunction(x / Math.SQRT2));
}

/**
 * P(|e| > 1) for e ~ N(mean, sd²) in units of the MPE: the probability that the instrument is
 * out of tolerance given its estimate and standard uncertainty.
 */
export function pOutOfTolerance(mean: number, sd: number): number {
  if (!(sd > 0)) return Math.abs(mean) > 1 ? 1 : 0;
  return phi((-1 - mean) / sd) + (1 - phi((1 - mean) / sd));
}
