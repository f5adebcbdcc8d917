import { describe, expect, it } from 'vitest';
import { Rng, hash01 } from '../../devices-sim/rng.js';

describe('Rng', () => {
  it('is deterministic for a seed and stream, and differs across seeds and streams', () => {
    const seq = (seed: number, stream: number) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.uint32());
    };
    expect(seq(1, 0)).toEqual(seq(1, 0));
    expect(seq(1, 0)).not.toEqual(seq(2, 0));
    expect(seq(1, 0)).not.toEqual(seq(1, 1));
  });

  it('gives uniform [0,1) and standard normal deviates', () => {
    const r = new Rng(5);
    const n = 200_000;
    let s = 0;
    let min = 1;
    let max = 0;
    let ns = 0;
    let nss = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      s += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = r.normal();
      ns += z;
      nss += z * z;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(ns / n).toBeCloseTo(0, 1);
    expect(nss / n).toBeCloseTo(1, 1);
  });

  it('gives Poisson counts with the right mean, small and large', () => {
    const r = new Rng(9);
    for (const mean of [0.3, 4, 50]) {
      let s = 0;
      for (let i = 0; i < 20_000; i++) s += r.poisson(mean);
      expect(s / 20_000).toBeGreaterThan(mean * 0.95);
      expect(s / 20_000).toBeLessThan(mean * 1.05);
    }
  });

  it('hash01 is a pure function in [0,1)', () => {
    expect(hash01(3, 17)).toBe(hash01(3, 17));
    expect(hash01(3, 17)).not.toBe(hash01(3, 18));
    let on = 0;
    for (let d = 0; d < 10_000; d++) if (hash01(42, d) < 0.7) on++;
    expect(on / 10_000).toBeGreaterThan(0.67);
    expect(on / 10_000).toBeLessThan(0.73);
  });
});
