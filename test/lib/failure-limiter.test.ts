import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { createFailureLimiter } from '../../lib/failure-limiter.js';

describe('createFailureLimiter', () => {
  it('keeps a blocked key waiting until the window begun by its first failure ends, however often it asks', () => {
    const clock = new ManualClock(0);
    const l = createFailureLimiter(clock, { maxFailures: 3, windowMs: 1_000, maxKeys: 10 });
    for (let i = 0; i < 3; i++) {
      l.fail('192.0.2.7');
      clock.advance(100);
    }
    for (let i = 0; i < 6; i++) {
      expect(l.retryAfter('192.0.2.7')).toBe(1_000 - clock.now());
      clock.advance(100);
    }
    clock.set(1_000);
    expect(l.retryAfter('192.0.2.7')).toBe(0);
    expect(l.size).toBe(0);
  });

  it('stays within maxKeys under a flood of distinct keys', () => {
    const l = createFailureLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 60_000, maxKeys: 1_000 });
    for (let i = 0; i < 100_000; i++) l.fail(`k${i}`);
    expect(l.size).toBe(1_000);
    expect(l.retryAfter('k99999')).toBeGreaterThan(0);
    expect(l.retryAfter('k0')).toBe(0);
  });

  it('forgets a key on success', () => {
    const l = createFailureLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 10_000, maxKeys: 10 });
    l.fail('a');
    expect(l.retryAfter('a')).toBeGreaterThan(0);
    l.succeed('a');
    expect(l.retryAfter('a')).toBe(0);
  });

  it('forgets the least recently failed key past maxKeys', () => {
    const l = createFailureLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 10_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) l.fail(k);
    l.fail('a'); // a is now the most recent
    l.fail('d');
    expect(l.size).toBe(3);
    expect(l.retryAfter('b')).toBe(0);
    expect(l.retryAfter('a')).toBeGreaterThan(0);
    expect(l.retryAfter('d')).toBeGreaterThan(0);
  });
});
