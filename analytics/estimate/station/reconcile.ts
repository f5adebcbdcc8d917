import { RandomWalkKalman } from '../kalman.js';
import type { StationOptions } from './options.js';
import { GaugeQueue, TxQueue } from './queues.js';

/** L per kL: the filter works in kL so volumes, θ and the diffuse V₀ stay well conditioned */
export const KL = 1000;
const HOUR = 3_600_000;
/** kL², prior variance of a fresh cycle's opening volume: diffuse against 10 L gauge noise */
const V0_VAR = 1;
/** kL², first guess of one gauge reading's noise variance: 1 mm of level ≈ 15 L at mid-fill */
const R0 = 0.015 ** 2;
/** kL², floor of that variance: levels are reported to 0.1 mm, ≈ 1.5 L */
const R_MIN = 0.0015 ** 2;
/** gauge readings a cycle needs before its own estimate counts (12 h at 15 min) */
const MIN_CYCLE_EQ = 48;

/**
 * Tank reconciliation (DOMAIN.md §3) for one tank and its nozzles, as a cumulative regression:
 *
 *   G₁₅(t) = V₀ − Σⱼ θⱼ Mⱼ(t) − λ·(t − t₀) + ε·u(h(t)) + noise
 *
 * G₁₅ the gauge volume at 15 °C, Mⱼ(t) nozzle j's pulse-derived (mechanical) volume at 15 °C
 * dispensed since the cycle opened at t₀, θⱼ = true / mechanical volume, λ an unrecorded loss
 * rate (leak or theft; US SIR practice), ε the gauge's relative level error and u its
 * sensitivity (see thermal.ts). V₀ is re-opened at each delivery; θ, λ and ε carry over.
 * Regressing levels on cumulative volumes uses every gauge reading once with white noise;
 * interval differences would double the noise and correlate neighbours.
 *
 * Mechanical volume rather than the indicated one: a rescaled pulse equivalent (the commonest
 * dispenser fraud, DOMAIN.md §6) changes indicated/mechanical but not θ, so an intermittent
 * tamper does not whip the filter about; the indicated error is recovered per period as
 * (Σ indicated / Σ mechanical) / θ − 1.
 *
 * Late data: a transaction older than the newest reconciled gauge reading makes the current
 * cycle's equations wrong from its time on. The filter is then restored to its state at the
 * cycle's opening (a copy of x and P kept for that) and the next reading opens a new cycle: the
 * cycle's evidence is lost, the estimate is not biased. A late transaction of an earlier, closed
 * cycle cannot be undone and is counted (`lateClosed`); the caller holds reconciliation while a
 * nozzle looks offline so this stays rare.
 */
export class TankReconciler {
  readonly n: number;
  readonly #o: StationOptions;
  readonly #kf: RandomWalkKalman;
  /** the current cycle alone (θ prior wide): its evidence, compared with the state at opening */
  readonly #cyc: RandomWalkKalman;
  #cycleEq = 0;
  /** per nozzle, two-sided CUSUM of the cycles' standardised jumps (DOMAIN.md §4, k = 0.5) */
  readonly #cusumUp: Float64Array;
  readonly #cusumDown: Float64Array;
  readonly #h: Float64Array;
  readonly #ph: Float64Array;
  readonly #snapX: Float64Array;
  readonly #snapP: Float64Array;
  readonly #cum: Float64Array;
  readonly gauges = new GaugeQueue();
  readonly #txs = new TxQueue();
  /** L, per nozzle: indicated and mechanical volume of the current day's reconciled transactions */
  readonly dayInd: Float64Array;
  readonly dayMech: Float64Array;
  readonly dayTx: Int32Array;
  #inCycle = false;
  #cycleStart = -Infinity;
  #settleUntil = -Infinity;
  #lastV15 = Number.NaN;
  #lastEq = Number.NaN;
  #r = R0;
  /** ms, event time of the newest reconciled gauge reading */
  processedTo = -Infinity;
  cycles = 0;
  equations = 0;
  deliveries = 0;
  outliers = 0;
  /** late transactions that re-opened the current cycle */
  lateRestarts = 0;
  /** late transactions of an already closed cycle */
  lateClosed = 0;
  droppedGauges = 0;
  /** cycles whose own estimate of a nozzle jumped away from the running one (the nozzle was re-opened) */
  steps = 0;
  /** hours of process noise added so far */
  #hours = 0;
  /** per nozzle: event time of its last widening, and its state at its last innovation [time, θ, var, hours] */
  readonly #widenedAt: Float64Array;
  readonly #last: Float64Array;

  constructor(nozzles: number, opts: StationOptions) {
    this.n = nozzles;
    this.#o = opts;
    const m = nozzles + 3;
    const prior = new Array<number>(m).fill(1);
    const pv = new Array<number>(m).fill(opts.priorSd ** 2);
    const q = new Array<number>(m).fill(opts.qTheta);
    prior[nozzles] = 0;
    pv[nozzles] = opts.gaugePriorSd ** 2;
    q[nozzles] = 0;
    prior[nozzles + 1] = 0;
    pv[nozzles + 1] = (opts.lossPriorLph / KL) ** 2;
    q[nozzles + 1] = opts.qLossLph2 / KL ** 2;
    prior[nozzles + 2] = 0;
    pv[nozzles + 2] = V0_VAR;
    q[nozzles + 2] = 0;
    this.#kf = new RandomWalkKalman(prior, pv, q);
    this.#cyc = new RandomWalkKalman(prior, pv, new Array<number>(m).fill(0));
    this.#h = new Float64Array(m);
    this.#ph = new Float64Array(m);
    this.#snapX = new Float64Array(m);
    this.#snapP = new Float64Array(m * m);
    this.#cum = new Float64Array(nozzles);
    this.#cusumUp = new Float64Array(nozzles);
    this.#cusumDown = new Float64Array(nozzles);
    this.dayInd = new Float64Array(nozzles);
    this.dayMech = new Float64Array(nozzles);
    this.dayTx = new Int32Array(nozzles);
    this.#widenedAt = new Float64Array(nozzles).fill(-Infinity);
    this.#last = new Float64Array(4 * nozzles).fill(Number.NaN);
  }

  /** A gauge reading: v15 and u in kL. Readings at or before the reconciled time are dropped. */
  addGauge(ts: number, v15: number, u: number, delivery: boolean): void {
    if (ts <= this.processedTo || !this.gauges.insert(ts, v15, u, delivery)) this.droppedGauges++;
  }

  /** A transaction of nozzle j: m15 in kL, ind and mech in L. */
  addTx(ts: number, j: number, m15: number, ind: number, mech: number): void {
    if (ts > this.processedTo) {
      this.#txs.push(ts, j, m15, ind, mech);
      return;
    }
    if (this.#inCycle && ts > this.#cycleStart) {
      this.#restore();
      this.lateRestarts++;
    } else this.lateClosed++;
  }

  /** ms, event time of the next gauge reading waiting (Infinity when none) */
  nextTs(): number {
    return this.gauges.peekTs();
  }

  /** Clears the per-day accumulators (the caller has emitted the day). */
  resetDay(): void {
    this.dayInd.fill(0);
    this.dayMech.fill(0);
    this.dayTx.fill(0);
  }

  /** Reconciles the oldest queued gauge reading. */
  processNext(): void {
    const g = this.gauges;
    if (g.len === 0) return;
    const ts = g.ts[g.head] as number;
    const v15 = g.v15[g.head] as number;
    const u = g.u[g.head] as number;
    const delivery = g.delivery[g.head] === 1;
    g.shift();
    this.#fold(ts);
    this.processedTo = ts;
    const o = this.#o;
    const jump = !Number.isNaN(this.#lastV15) && v15 - this.#lastV15 > o.jumpL / KL;
    this.#lastV15 = v15;
    if (delivery || jump) {
      this.deliveries++;
      this.#close();
      this.#settleUntil = ts + o.settleMs;
      return;
    }
    if (ts < this.#settleUntil) return;
    if (!this.#inCycle) this.#open(ts, v15);
    this.#equation(ts, v15, u);
  }

  #fold(upTo: number): void {
    const q = this.#txs;
    let w = 0;
    for (let i = 0; i < q.len; i++) {
      const t = q.ts[i] as number;
      const j = q.nozzle[i] as number;
      if (t <= upTo) {
        this.dayInd[j] = (this.dayInd[j] as number) + (q.ind[i] as number);
        this.dayMech[j] = (this.dayMech[j] as number) + (q.mech[i] as number);
        this.dayTx[j] = (this.dayTx[j] as number) + 1;
        if (this.#inCycle && t > this.#cycleStart) this.#cum[j] = (this.#cum[j] as number) + (q.m15[i] as number);
      } else {
        if (w !== i) {
          q.ts[w] = t;
          q.nozzle[w] = j;
          q.m15[w] = q.m15[i] as number;
          q.ind[w] = q.ind[i] as number;
          q.mech[w] = q.mech[i] as number;
        }
        w++;
      }
    }
    q.len = w;
  }

  #open(ts: number, v15: number): void {
    const kf = this.#kf;
    this.#snapX.set(kf.x);
    this.#snapP.set(kf.P);
    const m = this.n + 3;
    const v0 = m - 1;
    kf.x[v0] = v15;
    for (let i = 0; i < m; i++) {
      kf.P[i * m + v0] = 0;
      kf.P[v0 * m + i] = 0;
    }
    kf.P[v0 * m + v0] = V0_VAR;
    // the cycle-only filter: the running state for the nuisance terms, a wide prior for every θ
    const c = this.#cyc;
    c.x.set(kf.x);
    c.P.set(kf.P);
    const wide = this.#o.priorSd ** 2;
    for (let j = 0; j < this.n; j++) {
      for (let i = 0; i < m; i++) {
        c.P[j * m + i] = 0;
        c.P[i * m + j] = 0;
      }
      c.P[j * m + j] = wide;
    }
    this.#cycleEq = 0;
    this.#cum.fill(0);
    this.#cycleStart = ts;
    this.#inCycle = true;
    this.cycles++;
  }

  /**
   * Ends the cycle. Sales spread over all nozzles with the same daily rhythm, so one cycle
   * separates them only to a few tenths of a percent and the running estimate needs weeks; a step
   * (repair, board swap) or a fast drift would take as long to show. So each cycle is also
   * estimated on its own, its jump from the running estimate at the cycle's opening standardised
   * (z, independent of the running state) and fed to a per-nozzle CUSUM (k = 0.5, h = stepH: ARL₀
   * 465 cycles at h = 5, DOMAIN.md §4). When it signals, the nozzle is re-opened: its variance is
   * widened by the cycle's jump² so the following cycles move it.
   */
  #close(): void {
    if (!this.#inCycle) return;
    this.#inCycle = false;
    if (this.#cycleEq < MIN_CYCLE_EQ) return;
    const kf = this.#kf;
    const c = this.#cyc;
    const m = this.n + 3;
    const hLimit = this.#o.stepH;
    for (let j = 0; j < this.n; j++) {
      const vc = c.variance(j);
      if (!(vc < 0.25 * this.#o.priorSd ** 2)) continue;
      const d = (c.x[j] as number) - (this.#snapX[j] as number);
      const z = d / Math.sqrt(vc + (this.#snapP[j * m + j] as number));
      const up = Math.max(0, (this.#cusumUp[j] as number) + z - 0.5);
      const down = Math.max(0, (this.#cusumDown[j] as number) - z - 0.5);
      if (up > hLimit || down > hLimit) {
        // widen only: the cycle's marginal estimate of one nozzle is confounded with its
        // peers', so it is not fed back as an observation
        this.steps++;
        kf.inflate(j, d * d + vc);
        this.#widen(j);
        this.#cusumUp[j] = 0;
        this.#cusumDown[j] = 0;
      } else {
        this.#cusumUp[j] = up;
        this.#cusumDown[j] = down;
      }
    }
  }

  #restore(): void {
    this.#kf.x.set(this.#snapX);
    this.#kf.P.set(this.#snapP);
    this.#inCycle = false;
  }

  #equation(ts: number, v15: number, u: number): void {
    const kf = this.#kf;
    const n = this.n;
    const m = n + 3;
    if (!Number.isNaN(this.#lastEq) && ts > this.#lastEq) {
      kf.predict((ts - this.#lastEq) / HOUR);
      this.#hours += (ts - this.#lastEq) / HOUR;
    }
    this.#lastEq = ts;
    const h = this.#h;
    for (let j = 0; j < n; j++) h[j] = -(this.#cum[j] as number);
    h[n] = u;
    h[n + 1] = -(ts - this.#cycleStart) / HOUR;
    h[n + 2] = 1;
    // innovation variance before folding in: an outlier must not move the estimate
    const P = kf.P;
    const ph = this.#ph;
    let s = this.#r;
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let k = 0; k < m; k++) acc += (P[i * m + k] as number) * (h[k] as number);
      ph[i] = acc;
      s += (h[i] as number) * acc;
    }
    const nu = v15 - kf.predictObservation(h);
    if (nu * nu > this.#o.outlierSd ** 2 * s) {
      // a level discontinuity (unrecorded delivery, water, gauge fault): V₀ no longer holds
      this.outliers++;
      this.#close();
      return;
    }
    const r = this.#r;
    kf.update(h, v15, r);
    this.#cyc.update(h, v15, r);
    this.#cycleEq++;
    // measurement noise adapted from the innovations (as in area-balance.ts), bounded per step
    // both ways: while V₀ is still diffuse, s − r dwarfs ν² and would drive r to nothing
    const excess = Math.min(Math.max(nu * nu - (s - r), 0), 25 * r);
    this.#r = Math.max(R_MIN, r + 0.02 * (excess - r));
    this.equations++;
  }

  /** θⱼ = true / mechanical volume */
  theta(j: number): number {
    return this.#kf.x[j] as number;
  }

  thetaVar(j: number): number {
    return this.#kf.variance(j);
  }

  /** covariance of θᵢ and θⱼ */
  thetaCov(i: number, j: number): number {
    return this.#kf.P[i * (this.n + 3) + j] as number;
  }

  /** fraction, the gauge's estimated relative level error */
  get gaugeError(): number {
    return this.#kf.x[this.n] as number;
  }

  /** L/h, estimated unrecorded loss rate, and its standard uncertainty */
  get lossLph(): number {
    return (this.#kf.x[this.n + 1] as number) * KL;
  }

  get lossSdLph(): number {
    return Math.sqrt(this.#kf.variance(this.n + 1)) * KL;
  }

  /** L, standard deviation of one gauge reading's residual */
  get noiseL(): number {
    return Math.sqrt(this.#r) * KL;
  }

  /** Widens nozzle j's uncertainty after evidence of a step so the regression re-learns it. */
  reopen(j: number, sd: number): void {
    this.#kf.inflate(j, sd * sd);
    this.#widen(j);
  }

  #widen(j: number): void {
    this.#widenedAt[j] = this.processedTo;
  }

  /**
   * The standardised innovation of nozzle j's θ since the last call (see AreaBalance.innovation):
   * what is new in today's estimate, in units of the information gained since, signed as the
   * error. Null on the first call and across a re-opening of the nozzle.
   */
  innovation(j: number): number | null {
    const L = this.#last;
    const o = 4 * j;
    const theta = this.#kf.x[j] as number;
    const variance = this.#kf.variance(j);
    const tPrev = L[o] as number;
    let z: number | null = null;
    if (Number.isFinite(tPrev) && (this.#widenedAt[j] as number) < tPrev && this.processedTo > tPrev) {
      const v = (L[o + 2] as number) + (this.#kf.q[j] as number) * (this.#hours - (L[o + 3] as number)) - variance;
      if (v > 0) z = -(theta - (L[o + 1] as number)) / Math.sqrt(v);
    }
    L[o] = this.processedTo;
    L[o + 1] = theta;
    L[o + 2] = variance;
    L[o + 3] = this.#hours;
    return z;
  }
}
