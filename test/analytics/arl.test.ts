import { describe, expect, it } from 'vitest';
import { Cusum } from '../../analytics/detect/cusum.js';
import { Ewma } from '../../analytics/detect/ewma.js';

/** mulberry32 + Box–Muller: a seeded normal source, so the Monte Carlo is reproducible. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/** Mean run length to the first signal, over `runs` independent runs with the mean shifted by `shift` σ. */
function arl(make: () => { update(z: number): number }, shift: number, runs: number, seed: number): number {
  const z = normals(seed);
  let total = 0;
  for (let r = 0; r < runs; r++) {
    const d = make();
    let n = 0;
    do n++;
    while (d.update(z() + shift) === 0 && n < 1e6);
    total += n;
  }
  return total / runs;
}

// Published figures (DOMAIN.md §4): two-sided tabular CUSUM, k = 0.5.
const CUSUM: Record<number, Record<number, number>> = { 4: { 0: 168, 1: 8.38, 2: 3.34 }, 5: { 0: 465, 1: 10.4, 2: 4.01 } };
// Lucas & Saccucci (1990), λ = 0.1, L = 2.814.
const EWMA: Record<number, number> = { 0: 500, 1: 10.3, 2: 4.36 };

describe('run lengths match the published ARL within 5 %', () => {
  for (const h of [4, 5] as const) {
    for (const shift of [0, 1, 2] as const) {
      it(`CUSUM k=0.5 h=${h} at ${shift}σ`, () => {
        const expected = CUSUM[h]![shift]!;
        const got = arl(() => new Cusum({ k: 0.5, h }), shift, shift === 0 ? 20_000 : 10_000, 1000 * h + shift);
        expect(Math.abs(got / expected - 1)).toBeLessThan(0.05);
      });
    }
  }
  for (const shift of [0, 1, 2] as const) {
    it(`EWMA λ=0.1 L=2.814 at ${shift}σ`, () => {
      const expected = EWMA[shift]!;
      const got = arl(() => new Ewma({ lambda: 0.1, L: 2.814 }), shift, shift === 0 ? 20_000 : 10_000, 77 + shift);
      expect(Math.abs(got / expected - 1)).toBeLessThan(0.05);
    });
  }
  it('a detector that ignores the data would fail this check', () => {
    // guards the harness itself: a CUSUM with h = 3 must land far from the h = 4 figure
    expect(Math.abs(arl(() => new Cusum({ k: 0.5, h: 3 }), 0, 5_000, 9) / 168 - 1)).toBeGreaterThan(0.2);
  });
});
