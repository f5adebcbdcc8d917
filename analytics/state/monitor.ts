import { Cusum } from '../detect/cusum.js';
import { Ewma } from '../detect/ewma.js';
import { shewhart } from '../detect/shewhart.js';
import { crossing, theilSen, type Trend, type TrendPoint } from '../detect/trend.js';
import { pOutOfTolerance } from './probability.js';

/**
 * Everything known about one instrument's accuracy, in units of its MPE (ratio r = error / MPE,
 * so 1 is the tolerance whatever the kind): the latest estimate with its uncertainty, change
 * detectors over the series of estimates, a robust trend and the projected crossing date.
 *
 * The detectors run on z = (r − r₀) / s, r₀ the instrument's own settled level and s the standard
 * uncertainty of one period's estimate, so a 1σ shift means one uncertainty, as DOMAIN.md §4 asks.
 * Errors in the owner's favour weigh more (NIST HB 44: errors predominantly in the owner's favour
 * near the limit count as not properly maintained): their z is multiplied by `ownerFavourWeight`.
 */
export interface MonitorOptions {
  /** estimates needed before r₀ is fixed and detectors start */
  warmup: number;
  cusum: { k: number; h: number };
  ewma: { lambda: number; L: number };
  shewhartL: number;
  /** estimates kept for the trend */
  trendWindow: number;
  /**
   * where the estimator's model carries a rate (and hands over innovations): a drift is raised when
   * the rate exceeds this many of its standard deviations and `driftRateMin` MPE per year
   */
  driftRateZ: number;
  driftRateMin: number;
  ownerFavourWeight: number;
  /** sign of r that favours the instrument's owner (+1: over-registration, e.g. meters and dispensers) */
  ownerSign: 1 | -1;
  /**
   * MPE per √year: how far an instrument's error may wander after a verification. The verified
   * error is carried forward with its variance growing by this² per year (a random walk), fused
   * with each later telemetry estimate, its weight shrinking as it ages, until the telemetry
   * says the instrument has changed since (verificationGateZ).
   */
  verificationFadePerYear: number;
  /**
   * Standard deviations by which the telemetry must have moved since the verification for it to
   * end: a change since the test (a step, an adjustment, a tamper). The telemetry is compared with
   * itself at the time of the test, not with the verified value, so an estimator's steady offset
   * (which the verification is there to correct) does not end it.
   */
  verificationGateZ: number;
}

export const MONITOR_DEFAULTS: MonitorOptions = {
  warmup: 14,
  // daily periods on thousands of instruments: h 5 and L 2.814 (ARL₀ 465 and 500 periods) would
  // raise about two false change alerts per instrument-year; h 7 and L 3.3 have ARL₀ of about
  // 3 400 and 2 100 periods (nine and six years; test/analytics/arl.test.ts)
  cusum: { k: 0.5, h: 7 },
  ewma: { lambda: 0.1, L: 3.3 },
  shewhartL: 4,
  trendWindow: 30,
  driftRateZ: 3,
  driftRateMin: 0.5,
  ownerFavourWeight: 1.25,
  ownerSign: 1,
  verificationFadePerYear: 0.5,
  verificationGateZ: 3,
};

const YEAR_MS = 365 * 86_400_000;

/**
 * The direction of a trend where it is more than noise, else 0: where the estimator's model gives
 * the slope an uncertainty, the slope must exceed twice it; otherwise, over the window it must move
 * the error by more than twice the estimate's uncertainty `sd`, or it is a projection of noise.
 * The grade counts a projected crossing only then (grade.ts trendIsReal), and a change the CUSUM
 * finds is named a drift only then.
 */
export function trendDirection(t: Trend | null, sd: number): -1 | 0 | 1 {
  if (t === null || !Number.isFinite(sd)) return 0;
  const real = t.slopeSd !== undefined ? Math.abs(t.slopePerDay) > 2 * t.slopeSd : Math.abs(t.slopePerDay) * t.spanDays > 2 * sd;
  return real ? (t.slopePerDay > 0 ? 1 : -1) : 0;
}

/** A verification's measured error (MPE units), its standard uncertainty, and when it was tested. */
export interface Verified {
  at: number;
  r: number;
  sd: number;
}

interface Carried extends Verified {
  /**
   * the first telemetry estimate after the test (null until there is one): where the telemetry
   * stood once the instrument had been tested, the same whether the estimates come live or are
   * replayed after a restart
   */
  baseline: { r: number; sd: number } | null;
}

export type ChangeKind = 'step' | 'drift' | 'jump';

export interface Change {
  kind: ChangeKind;
  /** +1 upward (owner's favour for meters and dispensers), −1 downward */
  direction: 1 | -1;
  /** ms */
  at: number;
}

export class InstrumentMonitor {
  readonly opts: MonitorOptions;
  /** ms of the latest estimate */
  ts = 0;
  /** latest estimate, MPE units */
  r = 0;
  /** its standard uncertainty, MPE units */
  sd = Infinity;
  /** P(|error| > MPE) */
  pOut = 0;
  /** estimates received */
  n = 0;
  /** the latest telemetry estimate alone (r and sd above also carry a verification when there is one) */
  telemetry: { r: number; sd: number } | null = null;
  /** the newest verification, while it is carried forward */
  verified: Carried | null = null;
  /** the newest change found was a drift, and the trend still goes its way */
  driftContinues = false;
  #lastChange: Change | null = null;
  #r0 = 0;
  #s0 = 0;
  #warm: number[] = [];
  readonly #cusum: Cusum;
  readonly #ewma: Ewma;
  readonly #window: TrendPoint[] = [];
  /** the active change, if any, until the detectors settle */
  change: Change | null = null;
  trend: Trend | null = null;

  constructor(opts: Partial<MonitorOptions> = {}) {
    this.opts = { ...MONITOR_DEFAULTS, ...opts };
    this.#cusum = new Cusum(this.opts.cusum);
    this.#ewma = new Ewma(this.opts.ewma);
  }

  /**
   * Records a verification: its measured error becomes part of the current state now and is
   * carried forward into every later estimate (see verificationFadePerYear). One tested before
   * the verification already carried is older news and changes nothing.
   */
  verify(v: Verified): void {
    if (this.verified && v.at < this.verified.at) return;
    this.verified = { ...v, baseline: null };
    if (v.at > this.ts) this.ts = v.at;
    this.#fuse();
  }

  /**
   * r, sd and P(out) from the telemetry estimate and the verification carried to its time
   * (inverse-variance weighting of two independent measurements). An estimate for a time before
   * the test stands alone. Telemetry that has moved since the test by more than the gate ends
   * the verification: the instrument has changed since.
   */
  #fuse(): void {
    const t = this.telemetry;
    const v = this.verified;
    let r = t?.r ?? 0;
    let sd = t?.sd ?? Infinity;
    const known = t !== null && Number.isFinite(t.sd) && t.sd > 0;
    if (v && !(known && this.ts < v.at)) {
      const wander = this.opts.verificationFadePerYear ** 2 * (Math.max(0, this.ts - v.at) / YEAR_MS);
      const vv = v.sd * v.sd + wander;
      if (!known || !t) {
        r = v.r;
        sd = Math.sqrt(vv);
      } else if (this.#changedSince(v, t, wander)) {
        this.verified = null;
      } else {
        const w1 = 1 / (t.sd * t.sd);
        const w2 = 1 / vv;
        r = (t.r * w1 + v.r * w2) / (w1 + w2);
        sd = Math.sqrt(1 / (w1 + w2));
      }
    }
    this.r = r;
    this.sd = sd;
    this.pOut = pOutOfTolerance(r, sd);
  }

  /** the telemetry has moved since the test beyond what its uncertainty and the allowed wander explain */
  #changedSince(v: Carried, t: { r: number; sd: number }, wander: number): boolean {
    const b = v.baseline;
    if (!b) return false;
    return Math.abs(t.r - b.r) > this.opts.verificationGateZ * Math.sqrt(t.sd * t.sd + b.sd * b.sd + wander);
  }

  get settled(): boolean {
    return this.n >= this.opts.warmup;
  }

  /**
   * Folds in one period's estimate (event time ms, ratio to MPE, its sd, and the estimator's own
   * rate of change with its sd where its model has one). Returns a new change, if one is detected now.
   */
  observe(ts: number, r: number, sd: number, rate?: { perDay: number; sd: number }, innovation?: number | null): Change | null {
    this.ts = ts;
    this.telemetry = { r, sd };
    const v = this.verified;
    if (v && v.baseline === null && ts > v.at && Number.isFinite(sd) && sd > 0) v.baseline = { r, sd };
    this.#fuse();
    this.n++;
    // the detectors and the trend follow the telemetry alone: they are about its series
    this.#window.push({ t: ts, e: r });
    if (this.#window.length > this.opts.trendWindow) this.#window.shift();
    this.trend = rate
      ? { slopePerDay: rate.perDay, slopeSd: rate.sd, level: r, crossingAt: crossing(r, rate.perDay, ts, 1), spanDays: (ts - (this.#window[0] as TrendPoint).t) / 86_400_000 }
      : theilSen(this.#window, 1);
    if (this.n <= this.opts.warmup) {
      this.#warm.push(r);
      if (this.n === this.opts.warmup) {
        const sorted = [...this.#warm].sort((a, b) => a - b);
        this.#r0 = sorted[sorted.length >> 1] as number;
        this.#warm = [];
      }
      this.#s0 = sd;
      return null;
    }
    // An estimator that gives its innovations (a recursive filter, whose consecutive estimates
    // share most of their data) is judged on them: they are independent from period to period, as
    // the detectors' run lengths assume; the estimates themselves would count the same evidence
    // every day. A period without one yet (the estimator's first, a nozzle just re-opened) is skipped.
    if (innovation === null) return null;
    // Otherwise the reference level is itself an estimate: its uncertainty (s₀) counts as well,
    // or a filter still converging would look like a change against a reference fixed too early.
    const s = Math.max(Math.sqrt(sd * sd + this.#s0 * this.#s0), 1e-6);
    let z = innovation !== undefined ? innovation : (r - this.#r0) / s;
    if (Math.sign(z) === this.opts.ownerSign) z *= this.opts.ownerFavourWeight;
    const jump = shewhart(z, this.opts.shewhartL);
    const step = this.#cusum.update(z);
    const drift = this.#ewma.update(z);
    let found: Change | null = null;
    if (jump !== 0) found = { kind: 'jump', direction: jump, at: ts };
    else if (step !== 0) found = { kind: 'step', direction: step, at: ts };
    else if (drift !== 0) found = { kind: 'drift', direction: drift, at: ts };
    // A model that carries a rate follows a steady drift, and its innovations fall back to zero
    // once it has learned the rate: there the drift is read from the rate itself, when it is both
    // significant and material.
    if (innovation !== undefined && rate && rate.sd > 0) {
      const zRate = rate.perDay / rate.sd;
      const drifting = Math.abs(zRate) > this.opts.driftRateZ && Math.abs(rate.perDay) * 365 > this.opts.driftRateMin;
      const direction = zRate > 0 ? 1 : -1;
      if (!found && drifting) found = { kind: 'drift', direction, at: ts };
    }
    // The CUSUM answers first to a drift as to a step; while the series' trend is real and points
    // the way of the change (the same rule the grade uses), it is a drift.
    const trending = trendDirection(this.trend, sd);
    if (found?.kind === 'step' && trending === found.direction) found = { ...found, kind: 'drift' };
    if (found) {
      const isNew = !this.change || this.change.direction !== found.direction;
      // re-arm at the new level so a lasting change is reported once, not every period
      this.#cusum.reset();
      this.#ewma.reset();
      this.#r0 = r;
      this.#s0 = sd;
      this.change = found;
      this.#lastChange = found;
      this.driftContinues = found.kind === 'drift';
      return isNew ? found : null;
    }
    // the alert of a drift stays up while the trend goes on, even once the detectors, re-armed at
    // the new level, are quiet (the grade reads `change`, which clears as before)
    this.driftContinues = this.#lastChange?.kind === 'drift' && trending === this.#lastChange.direction;
    if (this.change && Math.abs(this.#ewma.z) < this.#ewma.limit / 2 && this.#cusum.hi < 1 && this.#cusum.lo < 1) {
      // quiet again at the new level; the change stays on record in the alert history
      this.change = null;
    }
    return null;
  }
}
