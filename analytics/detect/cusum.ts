/**
 * Two-sided tabular CUSUM on standardised values z = (x − μ0) / σ (Montgomery, Introduction to
 * Statistical Quality Control, §9.1): C⁺ = max(0, C⁺ + z − k), C⁻ = max(0, C⁻ − z − k);
 * a signal when either exceeds h. k = 0.5 tunes it to a 1σ shift; h = 4 or 5 gives the
 * in-control run lengths 168 and 465 (DOMAIN.md §4, checked by Monte Carlo in the tests).
 */
export interface CusumOptions {
  /** reference value, σ units */
  k: number;
  /** decision interval, σ units */
  h: number;
}

export type CusumSignal = 0 | 1 | -1;

export class Cusum {
  readonly k: number;
  readonly h: number;
  /** upper statistic, σ units */
  hi = 0;
  /** lower statistic, σ units */
  lo = 0;

  constructor(opts: CusumOptions = { k: 0.5, h: 5 }) {
    this.k = opts.k;
    this.h = opts.h;
  }

  /** Folds in one standardised value; returns +1 / −1 on an upward / downward signal, else 0. */
  update(z: number): CusumSignal {
    this.hi = Math.max(0, this.hi + z - this.k);
    this.lo = Math.max(0, this.lo - z - this.k);
    if (this.hi > this.h) return 1;
    if (this.lo > this.h) return -1;
    return 0;
  }

  reset(): void {
    this.hi = 0;
    this.lo = 0;
  }
}
