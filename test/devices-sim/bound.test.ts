import { describe, expect, it } from 'vitest';
import { LinearInformation } from '../../devices-sim/bound.js';

describe('LinearInformation (the joint bound’s least squares)', () => {
  it('gives the variances of linear combinations from priors and weighted observations, as the 2×2 inverse does', () => {
    const info = new LinearInformation([4, 9]);
    info.add(Float64Array.of(1, 0), 1);
    info.add(Float64Array.of(1, 1), 2);
    // A = diag(1/4, 1/9) + 1·[1 0; 0 0] + 2·[1 1; 1 1]
    const a = 1 / 4 + 1 + 2;
    const b = 2;
    const d = 1 / 9 + 2;
    const det = a * d - b * b;
    const v = info.variances([Float64Array.of(1, 0), Float64Array.of(0, 1), Float64Array.of(1, 1), Float64Array.of(2, -1)]);
    expect(v).not.toBeNull();
    const [v10, v01, v11, v2m1] = v as number[];
    expect(v10).toBeCloseTo(d / det, 12);
    expect(v01).toBeCloseTo(a / det, 12);
    expect(v11).toBeCloseTo((d - 2 * b + a) / det, 12);
    expect(v2m1).toBeCloseTo((4 * d + 4 * b + a) / det, 12);
  });

  it('keeps the information exactly symmetric, however the weights round', () => {
    const n = 7;
    const info = new LinearInformation(new Array<number>(n).fill(1));
    let seed = 1;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 3 - 1;
    for (let k = 0; k < 200; k++) info.add(Float64Array.from({ length: n }, rnd), 1 / (1e-7 + Math.abs(rnd())));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(info.A[i * n + j]).toBe(info.A[j * n + i]);
    expect(info.variances([Float64Array.from({ length: n }, (_, i) => (i === 3 ? 1 : 0))])).not.toBeNull();
  });

  it('answers null, not a throw, when two parameters cannot be told apart', () => {
    const info = new LinearInformation([Infinity, Infinity]);
    info.add(Float64Array.of(1, 1), 1);
    info.add(Float64Array.of(2, 2), 1);
    expect(info.variances([Float64Array.of(1, 0)])).toBeNull();
  });
});
