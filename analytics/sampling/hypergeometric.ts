/** Exact hypergeometric probabilities in log space (no overflow for lots of millions). */

const LOG_FACT: number[] = [0];
function logFactorial(n: number): number {
  for (let k = LOG_FACT.length; k <= Math.min(n, 100_000); k++) LOG_FACT[k] = (LOG_FACT[k - 1] as number) + Math.log(k);
  if (n <= 100_000) return LOG_FACT[n] as number;
  // Stirling series beyond the cache (error < 1e-12 there)
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + 1 / (12 * n) - 1 / (360 * n ** 3);
}
const logChoose = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

/** P(X = x) for X the nonconforming count in a sample of n from a lot of N holding D nonconforming. */
export function hypergeomPmf(x: number, N: number, D: number, n: number): number {
  if (x < Math.max(0, n - (N - D)) || x > Math.min(n, D)) return 0;
  return Math.exp(logChoose(D, x) + logChoose(N - D, n - x) - logChoose(N, n));
}

/** P(X ≤ c): the probability that a lot with D nonconforming is accepted by the plan (n, c). */
export function hypergeomCdf(c: number, N: number, D: number, n: number): number {
  let p = 0;
  for (let x = Math.max(0, n - (N - D)); x <= Math.min(c, n, D); x++) p += hypergeomPmf(x, N, D, n);
  return Math.min(1, p);
}
