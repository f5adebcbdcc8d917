import type { EstimatePoint } from '../analytics/engine.js';

/**
 * Reduces an estimate series to at most `points` by averaging consecutive runs of equal count;
 * the uncertainty of a run is its root-mean-square sd (the typical band width, not the narrower
 * uncertainty of the mean, so the band on the chart does not shrink as one zooms out).
 * pOut keeps the run's maximum: a brief excursion must stay visible.
 */
export function downsampleEstimates(series: readonly EstimatePoint[], points: number): EstimatePoint[] {
  const n = series.length;
  if (n <= points) return series.slice();
  const out: EstimatePoint[] = [];
  const per = n / points;
  for (let b = 0; b < points; b++) {
    const lo = Math.floor(b * per);
    const hi = Math.min(n, Math.floor((b + 1) * per));
    if (hi <= lo) continue;
    let ratio = 0;
    let sd2 = 0;
    let error = 0;
    let pOut = 0;
    for (let i = lo; i < hi; i++) {
      const p = series[i] as EstimatePoint;
      ratio += p.ratio;
      sd2 += p.sd * p.sd;
      error += p.error;
      if (p.pOut > pOut) pOut = p.pOut;
    }
    const k = hi - lo;
    out.push({ ts: (series[lo] as EstimatePoint).ts, ratio: ratio / k, sd: Math.sqrt(sd2 / k), error: error / k, pOut });
  }
  return out;
}
