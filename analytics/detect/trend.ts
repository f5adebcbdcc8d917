import { quickselect } from 'simple-statistics';

/**
 * Robust trend of an error series: the Theil–Sen slope (median of pairwise slopes; breakdown
 * point 29 %, so a few wild estimates do not tilt it) and the projected time at which |error|
 * reaches the MPE.
 */
export interface TrendPoint {
  /** ms */
  t: number;
  /** the error, in the unit the caller chose (the monitor uses MPE units) */
  e: number;
}

export interface Trend {
  /** error units per day (MPE units per day from the monitor) */
  slopePerDay: number;
  /** fitted error at the newest point, same unit */
  level: number;
  /** ms, projected first time |error| = mpe ahead of the newest point; null if not heading there */
  crossingAt: number | null;
  /** days the points span */
  spanDays: number;
  /** standard uncertainty of the slope, where the estimator's model supplies one */
  slopeSd?: number;
}

/** The projected first time |level + slope·t| reaches `mpe`, from `at` (ms); null if not heading there. */
export function crossing(level: number, slopePerDay: number, at: number, mpe: number): number | null {
  if (Math.abs(level) >= mpe) return at;
  if (slopePerDay > 0) return at + ((mpe - level) / slopePerDay) * DAY;
  if (slopePerDay < 0) return at + ((-mpe - level) / slopePerDay) * DAY;
  return null;
}

const DAY = 86_400_000;

/**
 * Median of the first `n` values, reordering them in place: Floyd–Rivest selection, O(n) on
 * average instead of a sort's O(n log n) — the trend runs once per instrument per estimate.
 */
function medianOf(xs: Float64Array, n: number): number {
  if (n === 1) return xs[0] as number; // quickselect reads right = 0 as "to the end of the array"
  const m = n >> 1;
  quickselect(xs as unknown as number[], m, 0, n - 1);
  const hi = xs[m] as number;
  if (n % 2) return hi;
  // the lower middle is the largest of the values selection left below m
  let lo = -Infinity;
  for (let i = 0; i < m; i++) if ((xs[i] as number) > lo) lo = xs[i] as number;
  return (lo + hi) / 2;
}

// scratch space shared by every call: the computation is synchronous and never re-entered
let scratch = new Float64Array(64 * 63);

/** Theil–Sen over the points (O(n² log n): callers keep a bounded window, e.g. the last 45 estimates). */
export function theilSen(points: readonly TrendPoint[], mpe: number): Trend | null {
  const n = points.length;
  if (n < 3) return null;
  if (scratch.length < (n * (n - 1)) / 2) scratch = new Float64Array(n * n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const a = points[i] as TrendPoint;
    for (let j = i + 1; j < n; j++) {
      const b = points[j] as TrendPoint;
      if (b.t !== a.t) scratch[k++] = (b.e - a.e) / ((b.t - a.t) / DAY);
    }
  }
  if (k === 0) return null;
  const slopePerDay = medianOf(scratch, k);
  const tLast = (points[n - 1] as TrendPoint).t;
  for (let i = 0; i < n; i++) {
    const p = points[i] as TrendPoint;
    scratch[i] = p.e - slopePerDay * ((p.t - tLast) / DAY);
  }
  const level = medianOf(scratch, n);
  return { slopePerDay, level, crossingAt: crossing(level, slopePerDay, tLast, mpe), spanDays: (tLast - (points[0] as TrendPoint).t) / DAY };
}
