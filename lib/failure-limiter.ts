import type { Clock } from './clock.js';

export interface FailureLimiter {
  /** ms until `key` may try again, or 0 when it may try now */
  retryAfter(key: string): number;
  /** records a failed attempt */
  fail(key: string): void;
  /** forgets the key's failures (after a success, where the caller wants that) */
  succeed(key: string): void;
  /** keys tracked */
  readonly size: number;
}

interface Window {
  /** ms, when the window's first failure happened */
  start: number;
  failures: number;
}

/**
 * Fixed-window count of failed attempts per key, bounded in memory: past `maxKeys` the least
 * recently failed key is forgotten (a Map iterates in insertion order, and each failure
 * re-inserts its key). A key with `maxFailures` failures in the window that began at its first
 * failure waits until that window ends. Failures only are counted, never successes, so a client
 * that gets its credentials right is never slowed down by its own attempts.
 *
 * Used by the dashboard's login throttle (dashboard/app.ts) and the broker's CONNECT
 * throttle (broker/hooks/authenticate.ts); each chooses its keys and limits.
 */
export function createFailureLimiter(clock: Clock, opts: { maxFailures: number; windowMs: number; maxKeys: number }): FailureLimiter {
  const windows = new Map<string, Window>();
  const live = (key: string, now: number): Window | undefined => {
    const w = windows.get(key);
    if (w && now - w.start >= opts.windowMs) {
      windows.delete(key);
      return undefined;
    }
    return w;
  };
  return {
    retryAfter(key) {
      const now = clock.now();
      const w = live(key, now);
      return w && w.failures >= opts.maxFailures ? w.start + opts.windowMs - now : 0;
    },
    fail(key) {
      const now = clock.now();
      const w = live(key, now) ?? { start: now, failures: 0 };
      w.failures += 1;
      windows.delete(key);
      windows.set(key, w);
      while (windows.size > opts.maxKeys) {
        const oldest = windows.keys().next();
        if (oldest.done) break;
        windows.delete(oldest.value);
      }
    },
    succeed(key) {
      windows.delete(key);
    },
    get size() {
      return windows.size;
    },
  };
}
