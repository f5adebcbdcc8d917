/**
 * Failed logins counted per key (client IP and username), bounded in memory. Counting failures
 * only, never successes, keeps a legitimate user who types the password right unaffected;
 * keying on IP and username keeps one attacker from locking a user out from everywhere (OWASP
 * Authentication Cheat Sheet, "Login Throttling").
 *
 * The counting itself is lib/failure-limiter.ts, shared with the broker's CONNECT throttle; the
 * dashboard keeps its own names for it.
 */
export { createFailureLimiter as createLoginLimiter, type FailureLimiter as LoginLimiter } from '../lib/failure-limiter.js';
