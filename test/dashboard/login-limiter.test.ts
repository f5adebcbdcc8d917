import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { createLoginLimiter } from '../../dashboard/login-limiter.js';

describe('createLoginLimiter', () => {
  it('blocks a key after maxFailures within the window, until the window ends', () => {
    const clock = new ManualClock(1_000);
    const l = createLoginLimiter(clock, { maxFailures: 2, windowMs: 10_000, maxKeys: 10 });
    l.fail('a');
    expect(l.retryAfter('a')).toBe(0);
    clock.advance(1_000);
    l.fail('a');
    expect(l.retryAfter('a')).toBe(9_000);
    expect(l.retryAfter('b')).toBe(0);
    clock.advance(9_000);
    expect(l.retryAfter('a')).toBe(0);
  });

  it('forgets a key on success', () => {
    const l = createLoginLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 10_000, maxKeys: 10 });
    l.fail('a');
    expect(l.retryAfter('a')).toBeGreaterThan(0);
    l.succeed('a');
    expect(l.retryAfter('a')).toBe(0);
  });

  it('stays within maxKeys, forgetting the least recently failed key', () => {
    const l = createLoginLimiter(new ManualClock(0), { maxFailures: 1, windowMs: 10_000, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) l.fail(k);
    l.fail('a'); // a is now the most recent
    l.fail('d');
    expect(l.size).toBe(3);
    expect(l.retryAfter('b')).toBe(0);
    expect(l.retryAfter('a')).toBeGreaterThan(0);
    expect(l.retryAfter('d')).toBeGreaterThan(0);
  });
});
