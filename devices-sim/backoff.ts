/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter", 2015): sleep = random(0, min(cap, base · 2^attempt)). Full jitter spreads a fleet
 * that lost its broker at the same instant, so the reconnects do not arrive as one storm.
 */
export interface BackoffOptions {
  /** ms, first ceiling */
  baseMs: number;
  /** ms, ceiling never exceeded */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** ms to wait before reconnect attempt number `attempt` (0-based); `random` is uniform in [0, 1). */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
