/**
 * EWMA of standardised values, z_t = λ x_t + (1 − λ) z_{t−1}, z_0 = 0, with the asymptotic
 * limits ±L √(λ / (2 − λ)) (Lucas & Saccucci, Technometrics 32(1), 1990). λ = 0.1, L = 2.814
 * gives an in-control ARL of 500 and reacts to slow drift (DOMAIN.md §4).
 */
export interface EwmaOptions {
  lambda: number;
  L: number;
}

export class Ewma {
  readonly lambda: number;
  readonly L: number;
  /** σ units */
  readonly limit: number;
  /** current statistic, σ units */
  z = 0;

  constructor(opts: EwmaOptions = { lambda: 0.1, L: 2.814 }) {
    this.lambda = opts.lambda;
    this.L = opts.L;
    this.limit = opts.L * Math.sqrt(opts.lambda / (2 - opts.lambda));
  }

  /** Folds in one standardised value; +1 / −1 when the statistic is beyond the upper / lower limit. */
  update(x: number): 0 | 1 | -1 {
    this.z = this.lambda * x + (1 - this.lambda) * this.z;
    if (this.z > this.limit) return 1;
    if (this.z < -this.limit) return -1;
    return 0;
  }

  reset(): void {
    this.z = 0;
  }
}
