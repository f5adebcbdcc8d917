/**
 * A small, fast, seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator, from
 * PractRand; passes its tests to 2^50+ bytes), seeded through splitmix32 so that nearby seeds and
 * stream numbers give unrelated sequences. Deterministic for (seed, stream) on every platform:
 * only 32-bit integer operations and IEEE doubles.
 *
 * Each simulated site draws from its own stream, so its readings do not depend on how the
 * simulation is sliced in time or on which other sites exist.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  /** the second Box–Muller deviate, NaN when none is cached */
  #spare = Number.NaN;

  constructor(seed: number, stream = 0) {
    let s = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** uniform integer in [0, 2^32) */
  uint32(): number {
    const a = this.#a;
    const b = this.#b;
    const c = this.#c;
    const d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** uniform in [min, max) */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** uniform over a `[min, max]` pair as the scenario writes ranges */
  range(r: readonly [number, number]): number {
    return r[0] + (r[1] - r[0]) * this.next();
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** true with probability p */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** standard normal deviate (Box–Muller; the pair's second value is kept for the next call) */
  normal(): number {
    const spare = this.#spare;
    if (spare === spare) {
      this.#spare = Number.NaN;
      return spare;
    }
    // 1 − u keeps the logarithm's argument in (0, 1].
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const theta = 2 * Math.PI * this.next();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * Poisson deviate. Knuth's product method for small means (transactions per interval are a
   * handful); a rounded normal approximation above 30, where its error is below a count.
   */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

/**
 * A stateless hash of two integers to [0, 1): for decisions that must be a pure function of
 * time (a tamper switched on for a given day) so ground truth can be evaluated at any instant.
 */
export function hash01(a: number, b: number): number {
  let h = Math.imul(a ^ 0x27d4eb2d, 0x85ebca6b) ^ Math.imul(b + 0x165667b1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}
