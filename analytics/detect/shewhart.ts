/**
 * Shewhart individual-value limit: a signal when |z| > L (L = 3: ARL0 370.4, DOMAIN.md §4).
 * Catches sudden large steps (tamper, board swap) one period after they happen.
 */
export function shewhart(z: number, L = 3): 0 | 1 | -1 {
  if (z > L) return 1;
  if (z < -L) return -1;
  return 0;
}
