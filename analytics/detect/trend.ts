/**
 * Robust trend of an error series: the Theil–Sen slope (median of pairwise slopes; breakdown
 * point 29 %, so a few wild estimates do not tilt it) and the projected time at which |error|
 * reaches the MPE.
 */
export interface TrendPoint {
  /** ms */
  t: number;
  /** fraction */
  e: number;
}

export interface Trend {
  /** fraction per day */
  slopePerDay: number;
  /** fraction, fitted error at the newest point */
  level: number;
  /** ms, projected first time |error| = mpe ahead of the newest point; null if not heading there */
  crossingAt: number | null;
}

const DAY = 86_400_000;

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? (xs[m] as number) : ((xs[m - 1] as number) + (xs[m] as number)) / 2;
}

/** Theil–Sen over the points (O(n²): callers keep a bounded window, e.g. the last 60 estimates). */
export function theilSen(points: readonly TrendPoint[], mpe: number): Trend | null {
  const n = points.length;
  if (n < 3) return null;
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = points[i] as TrendPoint;
    for (let j = i + 1; j < n; j++) {
      const b = points[j] as TrendPoint;
      if (b.t !== a.t) slopes.push((b.e - a.e) / ((b.t - a.t) / DAY));
    }
  }
  if (slopes.length === 0) return null;
  const slopePerDay = median(slopes);
  const tLast = (points[n - 1] as TrendPoint).t;
  const intercepts = points.map((p) => p.e - slopePerDay * ((p.t - tLast) / DAY));
  const level = median(intercepts);
  let crossingAt: number | null = null;
  if (Math.abs(level) >= mpe) crossingAt = tLast;
  else if (slopePerDay > 0) crossingAt = tLast + ((mpe - level) / slopePerDay) * DAY;
  else if (slopePerDay < 0) crossingAt = tLast + ((-mpe - level) / slopePerDay) * DAY;
  return { slopePerDay, level, crossingAt };
}
