const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;

/** ms: bucket widths a person reads at a glance, so chart ticks fall on whole minutes, hours and days. */
export const NICE_BUCKETS: readonly number[] = [S, 5 * S, 10 * S, 30 * S, MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, H, 2 * H, 3 * H, 6 * H, 12 * H, D, 7 * D];

/**
 * The narrowest nice bucket (ms) that splits `spanMs` into at most `maxBuckets` buckets
 * (whole weeks beyond the table).
 */
export function niceBucket(spanMs: number, maxBuckets: number): number {
  const need = Math.max(1, Math.ceil(spanMs / Math.max(1, maxBuckets)));
  for (const b of NICE_BUCKETS) if (b >= need) return b;
  return Math.ceil(need / (7 * D)) * 7 * D;
}
