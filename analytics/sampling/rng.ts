/**
 * Mulberry32 (Tommy Ettinger, 2017; public domain): a 32-bit PRNG small enough to re-implement
 * from this description in any language, so an auditor can re-derive a sampling list:
 *   a = seed (uint32); per draw: a = a + 0x6D2B79F5; t = a;
 *   t = imul(t ^ t>>>15, t | 1); t ^= t + imul(t ^ t>>>7, t | 61); out = (t ^ t>>>14) >>> 0.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform integer in [0, m) without modulo bias: draws at or above the largest multiple of m below 2³² are redrawn. */
export function uniformInt(next: () => number, m: number): number {
  const limit = Math.floor(0x1_0000_0000 / m) * m;
  for (;;) {
    const u = next();
    if (u < limit) return u % m;
  }
}
