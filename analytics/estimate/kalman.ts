/**
 * A linear Kalman filter over slowly varying parameters (random-walk state), in place on
 * Float64Arrays: x ← x + K (y − h·x), P ← (I − K hᵀ) P, with per-parameter process noise added
 * per unit time. This is recursive least squares with a forgetting rate per parameter (Kong et al.,
 * Energies 12(5):805, 2019, use two forgetting factors — one for losses, one for meter errors;
 * here each parameter carries its own rate), and its prior is the Tikhonov regularisation that
 * keeps a collinear problem well posed. P's diagonal is the honest variance of each estimate.
 * `advance` adds deterministic motion (a level moving along its rate), which makes the random walk
 * a local linear trend where the caller wants one.
 *
 * Cost per update is O(n²) with no allocation: an area of 80 meters with a level and a rate each
 * is n = 162 → ~26 k multiply-adds.
 */
export class RandomWalkKalman {
  readonly n: number;
  readonly x: Float64Array;
  /** covariance, row-major n×n */
  readonly P: Float64Array;
  /** process-noise variance per parameter per unit time */
  readonly q: Float64Array;
  readonly #Ph: Float64Array;

  constructor(prior: ArrayLike<number>, priorVar: ArrayLike<number>, q: ArrayLike<number>) {
    const n = prior.length;
    this.n = n;
    this.x = Float64Array.from(prior);
    this.P = new Float64Array(n * n);
    for (let i = 0; i < n; i++) this.P[i * n + i] = priorVar[i] as number;
    this.q = Float64Array.from(q);
    this.#Ph = new Float64Array(n);
  }

  /** Lets parameters wander for `dt` time units. */
  predict(dt: number): void {
    const n = this.n;
    for (let i = 0; i < n; i++) this.P[i * n + i] = (this.P[i * n + i] as number) + (this.q[i] as number) * dt;
  }

  /** Prediction of an observation with design row h. */
  predictObservation(h: Float64Array): number {
    let s = 0;
    for (let i = 0; i < this.n; i++) s += (h[i] as number) * (this.x[i] as number);
    return s;
  }

  /**
   * Folds in one observation y = h·x + v, var(v) = r. Returns the innovation and its variance,
   * so callers can standardise it (innovation / √variance ~ N(0,1) when the model holds).
   *
   * `gate` (in standard deviations) bounds the pull of one observation: an innovation beyond it
   * is folded in as if its variance were innovation²/gate² (the measurement variance inflated
   * until the innovation stands at the gate), so one gross error — an interval misaligned by a
   * clock, a transient — cannot drag every parameter while the filter is still uncertain. Beyond
   * the gate the pull shrinks as 1/|innovation|: a real step is learned through the caller's
   * covariance resets, not through single observations. The variance returned is the model's.
   */
  update(h: Float64Array, y: number, r: number, gate = Infinity): { innovation: number; variance: number } {
    const n = this.n;
    const P = this.P;
    const Ph = this.#Ph;
    let s = r;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) acc += (P[row + j] as number) * (h[j] as number);
      Ph[i] = acc;
      s += (h[i] as number) * acc;
    }
    const innovation = y - this.predictObservation(h);
    const e2 = innovation * innovation;
    const inv = gate > 0 && e2 > gate * gate * s ? (gate * gate) / e2 : 1 / s;
    for (let i = 0; i < n; i++) this.x[i] = (this.x[i] as number) + (Ph[i] as number) * inv * innovation;
    // P ← P − (Ph)(Ph)ᵀ / s, symmetric: compute the upper triangle and mirror it
    for (let i = 0; i < n; i++) {
      const a = (Ph[i] as number) * inv;
      const row = i * n;
      for (let j = i; j < n; j++) {
        const v = (P[row + j] as number) - a * (Ph[j] as number);
        P[row + j] = v;
        P[j * n + i] = v;
      }
    }
    return { innovation, variance: s };
  }

  /**
   * Moves `count` level parameters along their rates: x[level+i] += dt · x[rate+i], the
   * transition F = [[I, dt·I], [0, I]] of a local linear trend, with P ← F P Fᵀ (two sweeps of
   * row and column additions, O(count · n), no allocation).
   */
  advance(level: number, rate: number, count: number, dt: number): void {
    const n = this.n;
    const P = this.P;
    const x = this.x;
    for (let i = 0; i < count; i++) x[level + i] = (x[level + i] as number) + dt * (x[rate + i] as number);
    // rows: P[level+i, ·] += dt · P[rate+i, ·]
    for (let i = 0; i < count; i++) {
      const a = (level + i) * n;
      const b = (rate + i) * n;
      for (let j = 0; j < n; j++) P[a + j] = (P[a + j] as number) + dt * (P[b + j] as number);
    }
    // columns: P[·, level+i] += dt · P[·, rate+i]
    for (let r = 0; r < n; r++) {
      const row = r * n;
      for (let i = 0; i < count; i++) P[row + level + i] = (P[row + level + i] as number) + dt * (P[row + rate + i] as number);
    }
  }

  /** Variance of h·x under the current covariance (hᵀ P h), O(n²). */
  observationVariance(h: Float64Array): number {
    const n = this.n;
    const P = this.P;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const hi = h[i] as number;
      if (hi === 0) continue;
      let acc = 0;
      const row = i * n;
      for (let j = 0; j < n; j++) acc += (P[row + j] as number) * (h[j] as number);
      s += hi * acc;
    }
    return s;
  }

  covariance(i: number, j: number): number {
    return this.P[i * this.n + j] as number;
  }

  /** Widens the uncertainty of parameter i (after evidence of a step change there). */
  inflate(i: number, addVar: number): void {
    this.P[i * this.n + i] = (this.P[i * this.n + i] as number) + addVar;
  }

  variance(i: number): number {
    return this.P[i * this.n + i] as number;
  }
}
