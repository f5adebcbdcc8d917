import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { AnyReading } from '../ingest/readings.js';
import { BASE_ERROR_SPREAD, type Area, type Fleet, type SimDevice } from './fleet.js';
import { nominalMpe } from './faults.js';
import type { Truth } from './truth.js';
import { METER_NOISE } from './sites/area.js';

const DAY = 86_400_000;
/** the step the evaluation scans the truth in for MPE crossings */
export const SCORE_STEP_MS = DAY / 4;
const YEAR = 365 * DAY;
/** one-sided 95 %: the replacement rule's P(|error| > MPE) ≥ 0.95 */
const Z95 = 1.6448536269514722;

interface Target {
  id: string;
  onset: number;
  shape: 'step' | 'drift';
  crossing: number;
  mpe: number;
  /** the oracle's Fisher information about the fault's size (in θ) so far */
  oracleInfo: number;
  /** the oracle's confirmation and the joint bound's (ms; null: not yet) */
  oracleConfirmed: number | null;
  jointConfirmed: number | null;
}

/** one fault of an area as the joint bound models it: a column h·g(t) beside its meter's */
interface FaultColumn {
  meter: number;
  type: 'drift' | 'step' | 'tamper';
  startMs: number;
  device: SimDevice;
}

/**
 * Two references for how soon an area-balance estimator can confirm a customer meter's fault,
 * each for the customer meters with one fault, a drift or a step, that crosses its MPE. First an
 * oracle that knows every other parameter of the area exactly (the neighbours' errors, the
 * losses) and the fault's onset and shape (step or linear drift), and must only size it. Its
 * information about the size (in θ = 1/(1+e)) grows with the meter's true energy against the
 * balance's noise; it confirms the fault once the true error, less 1.645 of its standard
 * uncertainty, exceeds the MPE — its expected confirmation time, not a guarantee for every
 * fault (a real estimate can land above the truth by chance and confirm earlier). Real
 * estimators know neither the neighbours nor the onset; the gap in the median says what
 * collinear neighbours and an unknown onset cost. Then the joint bound (BoundArea, below), which
 * knows the onsets but not the neighbours. Both read the same interval balance, with the same
 * noise, and are tested on the same 6-hour scoring steps.
 */
export function createMeterBound(fleet: Fleet, truth: Truth, mpeOf: (d: SimDevice) => number | null, sites: ((site: string) => boolean) | null) {
  const targets: Target[] = [];
  /** each device of an area with a target, to its area */
  const areas = new Map<string, BoundArea>();
  for (const a of fleet.areas) {
    if (sites && !sites(a.site)) continue;
    const own: Target[] = [];
    for (const d of a.customers) {
      const fs = truth.faultsOf(d.id);
      const f = fs[0];
      if (fs.length !== 1 || !f || (f.type !== 'step' && f.type !== 'drift')) continue;
      const mpe = mpeOf(d);
      if (mpe === null) continue;
      const crossing = truth.crossingAt(d.id, mpe, fleet.startMs, fleet.endMs, SCORE_STEP_MS);
      if (crossing === null) continue;
      own.push({ id: d.id, onset: f.startMs, shape: f.type, crossing, mpe, oracleInfo: 0, oracleConfirmed: null, jointConfirmed: null });
    }
    if (own.length === 0) continue;
    targets.push(...own);
    const area = new BoundArea(a, truth, own, fleet.startMs);
    for (const d of [a.head, ...a.customers]) areas.set(d.id, area);
  }
  return {
    /** Folds in one simulated reading (call in the simulator's order: the head before its customers each interval). */
    observe(d: SimDevice, r: AnyReading, trueMs: number): void {
      const e = (r as { energyWh?: number }).energyWh;
      if (e !== undefined) areas.get(d.id)?.observe(d, e, (r as { powerW?: number }).powerW ?? 0, trueMs);
    },
    /** per target: its MPE crossing, its shape, and the days from the crossing to the oracle's confirmation and to the joint bound's */
    result(): BoundRow[] {
      const days = (c: number | null, t: Target) => (c === null ? null : (c - t.crossing) / DAY);
      return targets.map((t) => ({ id: t.id, crossing: t.crossing, shape: t.shape, oracleDays: days(t.oracleConfirmed, t), jointDays: days(t.jointConfirmed, t) }));
    },
  };
}

/** one customer-meter drift or step of the bounds: its MPE crossing and the days from it to each bound's confirmation (null: not within the run) */
export interface BoundRow {
  id: string;
  /** ms */
  crossing: number;
  shape: 'step' | 'drift';
  oracleDays: number | null;
  jointDays: number | null;
}

/**
 * The information about n linear parameters from weighted observations y = h·x + v, var(v) =
 * 1/w, and independent priors: A = Σ w h hᵀ + diag(1/prior²), kept exactly symmetric (the upper
 * triangle mirrored), as a Cholesky decomposition asks.
 */
export class LinearInformation {
  readonly n: number;
  /** row-major n×n */
  readonly A: Float64Array;

  constructor(priorVariances: readonly number[]) {
    const n = (this.n = priorVariances.length);
    this.A = new Float64Array(n * n);
    priorVariances.forEach((v, i) => (this.A[i * n + i] = 1 / v));
  }

  add(h: Float64Array, w: number): void {
    const { n, A } = this;
    for (let a = 0; a < n; a++) {
      const ha = (h[a] as number) * w;
      if (ha === 0) continue;
      const o = a * n;
      for (let b = a; b < n; b++) {
        const v = (A[o + b] as number) + ha * (h[b] as number);
        A[o + b] = v;
        A[b * n + a] = v;
      }
    }
  }

  /** uᵀ A⁻¹ uⱼ for each uⱼ: the variances of the linear combinations u·x; null when A is not positive definite */
  variances(us: readonly Float64Array[]): number[] | null {
    const chol = new CholeskyDecomposition(Matrix.from1DArray(this.n, this.n, this.A));
    if (!chol.isPositiveDefinite()) return null;
    const U = new Matrix(us.map((u) => Array.from(u))).transpose();
    const X = chol.solve(U);
    return us.map((u, j) => u.reduce((acc, ui, i) => acc + ui * X.get(i, j), 0));
  }
}

/**
 * A second, fairer reference: the joint bound. It knows, like the oracle, the onset and shape of
 * every fault in the area (drifts, steps, tampers) and reads a stuck register's energy from its
 * power, but it must size every meter's base error (the head's too), every fault and both loss
 * terms together, from the same interval balance the analytics sees: static least squares over
 * everything since the start, with each base error's prior its true spread in the fleet
 * (0.15 MPE) and the noise of the head meter, the customers' meters (a noisy one's as it is) and
 * the registers' whole-Wh rounding as weights. It is what a balance with perfect change
 * detection could confirm: where driftwatch is slower than it, the cost is in finding the change;
 * where it is not, in the balance's information. Approximations, both small at the MPE: a drift
 * is taken as linear in θ = 1/(1+e) (the simulator's is linear in e), and the head's error as the
 * parameter φ of a term φ·y.
 */
class BoundArea {
  readonly #area: Area;
  readonly #truth: Truth;
  readonly #startMs: number;
  readonly #targets: { t: Target; meter: number; column: number }[];
  readonly #columns: FaultColumn[];
  readonly #index = new Map<string, number>();
  readonly #info: LinearInformation;
  readonly #row: Float64Array;
  readonly #last: Float64Array;
  readonly #lastMs: Float64Array;
  #head = Number.NaN;
  #headLast = Number.NaN;
  #rowMs = Number.NaN;
  #scale = 0;
  /** the scoring step the targets were last tested in */
  #tested = -1;

  constructor(area: Area, truth: Truth, targets: readonly Target[], startMs: number) {
    this.#area = area;
    this.#truth = truth;
    this.#startMs = startMs;
    const m = area.customers.length;
    area.customers.forEach((d, i) => this.#index.set(d.id, i));
    this.#columns = [];
    area.customers.forEach((d, i) => {
      for (const f of truth.faultsOf(d.id)) {
        if (f.type === 'drift' || f.type === 'step' || f.type === 'tamper') this.#columns.push({ meter: i, type: f.type, startMs: f.startMs, device: d });
      }
    });
    // parameters: θ of each customer meter, the two loss terms, the head's φ, then one size per fault
    const first = m + 3;
    this.#targets = targets.map((t) => {
      const meter = this.#index.get(t.id);
      const k = this.#columns.findIndex((c) => c.meter === meter);
      if (meter === undefined || k < 0) throw new Error(`joint bound: ${t.id} is not a faulty meter of ${area.site}`);
      return { t, meter, column: first + k };
    });
    const spread = (d: SimDevice) => (BASE_ERROR_SPREAD * nominalMpe(d.kind, d.record.accuracyClass)) ** 2;
    // priors: each base error its fleet spread, the losses and the faults' sizes all but free
    this.#info = new LinearInformation([...area.customers.map(spread), 1e6, 1e6, spread(area.head), ...this.#columns.map(() => 1e6)]);
    this.#row = new Float64Array(this.#info.n);
    this.#last = new Float64Array(m).fill(Number.NaN);
    this.#lastMs = new Float64Array(m).fill(Number.NaN);
  }

  /** one register reading, in the simulator's order: the head first each interval, then its customers */
  observe(d: SimDevice, energyWh: number, powerW: number, trueMs: number): void {
    if (d.id === this.#area.head.id) {
      this.#fold();
      const inc = energyWh - this.#headLast;
      this.#headLast = energyWh;
      this.#head = inc;
      this.#rowMs = trueMs;
      this.#row.fill(0);
      return;
    }
    const i = this.#index.get(d.id) as number;
    const prev = this.#last[i] as number;
    const hours = (trueMs - (this.#lastMs[i] as number)) / 3_600_000;
    this.#last[i] = energyWh;
    this.#lastMs[i] = trueMs;
    // a stuck register stops; its power reading still tells the energy (the bound's privilege)
    this.#row[i] = d.error.stuckAt(trueMs) ? powerW * hours : energyWh - prev;
  }

  /** folds the interval gathered so far into the information, and tests the targets once each scoring step */
  #fold(): void {
    const y0 = this.#head;
    const t = this.#rowMs;
    const row = this.#row;
    const m = this.#area.customers.length;
    if (!(y0 > 0)) return;
    for (let i = 0; i < m; i++) if (!Number.isFinite(row[i])) return;
    if (this.#scale === 0) this.#scale = y0;
    const s = this.#scale;
    let load = 0;
    // the meters' own noise (a noisy register's as it is), and whole-Wh rounding of m + 1 registers read twice
    let noise = (METER_NOISE * this.#area.head.error.noiseAt(t) * y0) ** 2 + (m + 1) / 6;
    for (let i = 0; i < m; i++) {
      noise += (METER_NOISE * (this.#area.customers[i] as SimDevice).error.noiseAt(t) * (row[i] as number)) ** 2;
      row[i] = (row[i] as number) / s;
      load += row[i] as number;
    }
    row[m] = 1;
    row[m + 1] = load * load;
    // the head registers (1 + e_h) times what flows: y = Σ θ m + losses + φ y, φ = e_h / (1 + e_h)
    row[m + 2] = y0 / s;
    this.#columns.forEach((c, k) => {
      let g = 0;
      if (t >= c.startMs) g = c.type === 'drift' ? (t - c.startMs) / YEAR : c.type === 'step' || c.device.error.tamperOn(t) ? 1 : 0;
      row[m + 3 + k] = g * (row[c.meter] as number);
    });
    const w = (s * s) / noise;
    this.#info.add(row, w);
    // the oracle knows all but the size: its information is the fault column's own, in true energy
    for (const q of this.#targets) {
      if (t <= q.t.onset || q.t.oracleConfirmed !== null) continue;
      const g = q.t.shape === 'step' ? 1 : (t - q.t.onset) / YEAR;
      q.t.oracleInfo += ((((row[q.meter] as number) / (1 + this.#truth.trueErrorAt(q.t.id, t))) * g) ** 2) * w;
    }
    const step = Math.floor((t - this.#startMs) / SCORE_STEP_MS);
    if (step === this.#tested) return;
    this.#tested = step;
    // only a target whose true error is beyond its MPE can be confirmed
    const beyond = this.#targets.filter((q) => Math.abs(this.#truth.trueErrorAt(q.t.id, t)) > q.t.mpe);
    for (const q of beyond) {
      if (q.t.oracleConfirmed !== null) continue;
      const e = this.#truth.trueErrorAt(q.t.id, t);
      const g = q.t.shape === 'step' ? 1 : (t - q.t.onset) / YEAR;
      if (Math.abs(e) - (Z95 * (1 + e) ** 2 * g) / Math.sqrt(q.t.oracleInfo) > q.t.mpe) q.t.oracleConfirmed = t;
    }
    const open = beyond.filter((q) => q.t.jointConfirmed === null);
    if (open.length === 0) return;
    // the variance of θ now = θ_base + g·δ, for u = e_meter + g·e_fault
    const us = open.map((q) => {
      const u = new Float64Array(this.#info.n);
      u[q.meter] = 1;
      u[q.column] = q.t.shape === 'step' ? 1 : (t - q.t.onset) / YEAR;
      return u;
    });
    const v = this.#info.variances(us);
    if (!v) return; // not positive definite at this step (collinear columns): no test now
    open.forEach((q, j) => {
      const e = this.#truth.trueErrorAt(q.t.id, t);
      if (Math.abs(e) - Z95 * (1 + e) ** 2 * Math.sqrt(v[j] as number) > q.t.mpe) q.t.jointConfirmed = t;
    });
  }
}
