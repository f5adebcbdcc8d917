import { weightedQuantile } from 'simple-statistics';
import { MPE_TABLE, relativeMpe, type Instrument } from '../mpe/mpe.js';

/**
 * The arithmetic of a trade scale's check-weight tests, apart from the bookkeeping of
 * market.ts: a check's zero-corrected error, one day's proportional-error fit, and the load at
 * which a proportional error is judged.
 */

/** Check flags: why a check is left out of the day's fit. */
export const CHECK_OK = 0;
/** inconsistent with the scale's other checks (a misplaced weight, a jump's first checks) */
export const CHECK_OUTLIER = 1;
/** repeats the previous indication for a different weight: the indication is frozen */
export const CHECK_STUCK = 2;

/** One check-weight test as the estimator keeps it. */
export class Check {
  /** ms, event time */
  readonly ts: number;
  /** kg */
  readonly refKg: number;
  /** kg */
  readonly indicatedKg: number;
  /** kg, the no-load indication the scale reported with the check */
  readonly zeroKg: number;
  /** kg: indication − reference − estimated zero offset, set when the check settles */
  dKg = 0;
  flag = CHECK_OK;

  constructor(ts: number, refKg: number, indicatedKg: number, zeroKg: number) {
    this.ts = ts;
    this.refKg = refKg;
    this.indicatedKg = indicatedKg;
    this.zeroKg = zeroKg;
  }

  /** fraction: the relative error at this check's load */
  get rel(): number {
    return this.dKg / this.refKg;
  }
}

/** A scale's no-load indications, kept sorted by event time. */
export class ZeroSeries {
  readonly ts: number[] = [];
  readonly kg: number[] = [];

  add(ts: number, kg: number): void {
    let i = this.ts.length;
    // readings arrive nearly in order: insert from the end
    while (i > 0 && (this.ts[i - 1] as number) > ts) i--;
    this.ts.splice(i, 0, ts);
    this.kg.splice(i, 0, kg);
  }

  /** kg: mean zero indication within ±halfWidthMs of ts (NaN when none) */
  around(ts: number, halfWidthMs: number): number {
    let sum = 0;
    let n = 0;
    for (let i = this.#lowerBound(ts - halfWidthMs); i < this.ts.length && (this.ts[i] as number) <= ts + halfWidthMs; i++) {
      sum += this.kg[i] as number;
      n++;
    }
    return n > 0 ? sum / n : Number.NaN;
  }

  /** the zero readings in [fromMs, toMs) */
  between(fromMs: number, toMs: number): { ts: number[]; kg: number[] } {
    const a = this.#lowerBound(fromMs);
    const b = this.#lowerBound(toMs);
    return { ts: this.ts.slice(a, b), kg: this.kg.slice(a, b) };
  }

  /** drops readings older than ms */
  prune(ms: number): void {
    const k = this.#lowerBound(ms);
    if (k > 0) {
      this.ts.splice(0, k);
      this.kg.splice(0, k);
    }
  }

  #lowerBound(ms: number): number {
    let lo = 0;
    let hi = this.ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ts[mid] as number) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export interface DayFit {
  /** fraction, weighted least-squares proportional error: Σ d·L / Σ L² */
  error: number;
  /** kg², Σ L² of the checks used (the fit's information per unit check variance) */
  sumL2: number;
  /** kg², residual sum of squares */
  rss: number;
  /** checks used */
  n: number;
  /** ms, mean event time of the checks used */
  ts: number;
  /** checks rejected as outliers in this fit */
  rejected: number;
}

/**
 * Fits d = e·L to the day's usable checks (a proportional error: a cheat chip, a span drift or
 * a gravity-zone mistake all scale with the load; the zero offset is taken out before). Each
 * check has about the same variance in kg — quantisation e/√12 of the indication and of the zero
 * — so weighted least squares weights by L². With three or more checks, a check more than
 * `rejectK` standard deviations (`sdKg`) off the robust slope (the median of the checks' relative
 * errors, weighted by L² as the fit is) is left out once.
 */
export function fitDay(checks: readonly Check[], fromTs: number, sdKg: number, rejectK: number): DayFit | null {
  const use: Check[] = [];
  for (const c of checks) if (c.flag === CHECK_OK && c.ts >= fromTs) use.push(c);
  if (use.length === 0) return null;
  let rejected = 0;
  if (use.length >= 3) {
    // each check's relative error is known to sdKg/L: the robust slope weighs them by L², or a
    // majority of light checks (whose one-e quantisation is a large share of their load) sets it
    // and the heavy, precise ones are thrown out as outliers
    const med = weightedQuantile(use.map((c) => c.rel), use.map((c) => c.refKg * c.refKg), 0.5);
    for (let i = use.length - 1; i >= 0; i--) {
      const c = use[i] as Check;
      if (Math.abs(c.dKg - med * c.refKg) > rejectK * sdKg) {
        c.flag = CHECK_OUTLIER;
        use.splice(i, 1);
        rejected++;
      }
    }
    if (use.length === 0) return null;
  }
  let sdl = 0;
  let sll = 0;
  let st = 0;
  for (const c of use) {
    sdl += c.dKg * c.refKg;
    sll += c.refKg * c.refKg;
    st += c.ts;
  }
  const error = sdl / sll;
  let rss = 0;
  for (const c of use) rss += (c.dKg - error * c.refKg) ** 2;
  return { error, sumL2: sll, rss, n: use.length, ts: Math.round(st / use.length), rejected };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * kg: the load at which a proportional error is judged — the one with the smallest relative
 * in-service MPE over the weighing range [Min, Max]. Verification tests the band change points
 * and Max (OIML R 76-1, A.4.4.1), and a span error fails first where MPE / load is smallest:
 * the top of each band. For class III with e = 10 g and Max = 30 kg that is 20 kg (2 e, 0.1 %).
 * Min is 20 e for class III (OIML R 76-1, Table 3). Null when the table has no entry.
 */
export function scaleReferenceLoadKg(inst: Instrument): number | null {
  const eKg = inst.params['eKg'];
  const maxKg = inst.params['maxKg'];
  if (!eKg || !maxKg) return null;
  const loads = [maxKg];
  for (const entry of MPE_TABLE) {
    if (entry.kind !== 'scale' || entry.class !== inst.accuracyClass || entry.context !== 'in-service') continue;
    const m = /\.\.(\d+(?:\.\d+)?)e$/.exec(entry.band);
    const top = m ? Number(m[1]) * eKg : Number.NaN;
    if (top > 20 * eKg && top < maxKg) loads.push(top);
  }
  loads.sort((a, b) => a - b);
  let best: number | null = null;
  let bestMpe = Infinity;
  for (const l of loads) {
    const r = relativeMpe(inst, 'in-service', l);
    // smallest load among equals: the heavier loads add nothing, and a lighter check weight is handier
    if (r && r.mpe < bestMpe - 1e-12) {
      bestMpe = r.mpe;
      best = l;
    }
  }
  return best;
}

/** fraction: the in-service relative MPE a scale's ratio is expressed in (at scaleReferenceLoadKg) */
export function scaleRatioMpe(inst: Instrument, refLoadKg?: number): number | null {
  const load = refLoadKg ?? scaleReferenceLoadKg(inst);
  if (load === null) return null;
  return relativeMpe(inst, 'in-service', load)?.mpe ?? null;
}
