import { describe, expect, it } from 'vitest';
import { theilSen, type TrendPoint } from '../../analytics/detect/trend.js';

const DAY = 86_400_000;

/** Theil–Sen by definition: every pairwise slope, sorted, the median taken. */
function reference(points: TrendPoint[]): { slope: number; level: number } {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
  };
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++) slopes.push((points[j]!.e - points[i]!.e) / ((points[j]!.t - points[i]!.t) / DAY));
  const slope = median(slopes);
  const tLast = points[points.length - 1]!.t;
  return { slope, level: median(points.map((p) => p.e - slope * ((p.t - tLast) / DAY))) };
}

describe('theilSen', () => {
  it('matches the definition on odd and even counts, with outliers', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const n of [3, 4, 5, 8, 29, 30, 45]) {
      const pts = Array.from({ length: n }, (_, i) => ({ t: i * DAY, e: 0.01 * i + 0.05 * (rand() - 0.5) + (rand() < 0.1 ? 3 : 0) }));
      const got = theilSen(pts, 1)!;
      const want = reference(pts);
      expect(got.slopePerDay).toBeCloseTo(want.slope, 12);
      expect(got.level).toBeCloseTo(want.level, 12);
    }
  });

  it('projects the crossing of the MPE along the slope', () => {
    const pts = Array.from({ length: 10 }, (_, i) => ({ t: i * DAY, e: 0.1 * i }));
    const tr = theilSen(pts, 1)!;
    expect(tr.slopePerDay).toBeCloseTo(0.1, 12);
    expect(tr.crossingAt).toBe(10 * DAY);
  });
});
