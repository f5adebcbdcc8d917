import { describe, expect, it } from 'vitest';
import { Cusum } from '../../analytics/detect/cusum.js';
import { Ewma } from '../../analytics/detect/ewma.js';
import { Rng } from '../../devices-sim/rng.js';

/** A seeded normal source (the project's generator), so the Monte Carlo is reproducible. */
function normals(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.normal();
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

describe('the platform defaults (MONITOR_DEFAULTS), set for daily periods on a fleet', () => {
  it('have an in-control ARL of thousands of periods, and still see a 2σ shift within days', async () => {
    const { MONITOR_DEFAULTS: d } = await import('../../analytics/state/monitor.js');
    const cusum0 = arl(() => new Cusum(d.cusum), 0, 1000, 71);
    const ewma0 = arl(() => new Ewma(d.ewma), 0, 1000, 72);
    // CUSUM k 0.5, h 7 two-sided: about 3 400 periods (Siegmund: some 7 000 per side); EWMA λ 0.1,
    // L 3.3: about 2 100 (1 000 runs, run lengths near exponential: a few % of sampling error)
    expect(cusum0).toBeGreaterThan(2800);
    expect(cusum0).toBeLessThan(4000);
    expect(ewma0).toBeGreaterThan(1700);
    expect(ewma0).toBeLessThan(2500);
    expect(arl(() => new Cusum(d.cusum), 2, 2000, 73)).toBeLessThan(6);
    expect(arl(() => new Ewma(d.ewma), 2, 2000, 74)).toBeLessThan(7);
  }, 60_000);
});
