import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';
import type { Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { bearerToken } from '../auth.js';
import { DashboardErrors } from '../errors.js';
import type { AuditLog } from '../audit.js';
import type { FailureLimiter } from '../../lib/failure-limiter.js';
import { LoginBody, PasswordChangeBody } from '../schemas.js';
import { addressKey, isLoopback } from '../../lib/remote-address.js';

const LOOPBACK = 'loopback';

export interface AuthDeps {
  registry: Registry;
  /** failures per address and username */
  limiter: FailureLimiter;
  /** failures per address, whatever the username (a client cycling through names) */
  ipLimiter: FailureLimiter;
  audit: AuditLog;
  /** password checks at once; beyond it, 503 without checking */
  maxConcurrent: number;
  clock: Clock;
}

export const authRoutes: FastifyPluginAsyncZod<AuthDeps> = async (app, { registry, limiter, ipLimiter, audit, maxConcurrent, clock }) => {
  // A blocked key is audited once per block, not on every refused attempt: a flood of refused
  // logins must not become a flood of audit rows (each an fsync).
  const noticed = new Map<string, number>();
  let checking = 0;
  /**
   * The keys a login counts against: the client's address as the connection caps count it (an
   * IPv6 /64 as one), with and without the username. Loopback, where an untrusted reverse proxy
   * would bring every user from, has no per-address limit (set TRUST_PROXY so request.ip is the
   * client's); the per-username limit still holds.
   */
  const blocked = (ip: string, username: string) => {
    const address = isLoopback(ip) ? LOOPBACK : (addressKey(ip) ?? ip);
    const key = `${address}\u0000${username}`;
    const wait = Math.max(limiter.retryAfter(key), address === LOOPBACK ? 0 : ipLimiter.retryAfter(address));
    return { key, address, wait };
  };
  /**
   * One password check under the limits, for a login and for a change of one's own password alike:
   * refused (429) while the username or the address is blocked, audited once per block; refused
   * (503) when `maxConcurrent` checks already run, since they share the thread pool with device
   * authentication; a failed check counts against both keys.
   */
  async function checked<T>(request: FastifyRequest, username: string, check: () => Promise<T | null>): Promise<T | null> {
    const { key, address, wait } = blocked(request.ip, username);
    if (wait > 0) {
      const notice = address !== LOOPBACK && ipLimiter.retryAfter(address) > 0 ? address : key;
      const until = noticed.get(notice);
      const now = clock.now();
      if (until === undefined || until < now) {
        if (noticed.size >= 10_000) noticed.clear();
        noticed.set(notice, now + wait);
        audit.record({ actor: username, action: 'login_failed', target: 'session', ip: request.ip, detail: 'rate limited' });
      }
      throw DashboardErrors.make('DSH_LOGIN_RATE_LIMITED', wait);
    }
    if (checking >= maxConcurrent) throw DashboardErrors.make('DSH_BUSY', 1000);
    checking++;
    let result: T | null;
    try {
      result = await check();
    } finally {
      checking--;
    }
    if (result === null) {
      limiter.fail(key);
      if (address !== LOOPBACK) ipLimiter.fail(address);
    } else limiter.succeed(key);
    return result;
  }

  app.post('/api/auth/login', { config: { public: true }, schema: { tags: ['auth'], summary: 'open a session', body: LoginBody } }, async (request) => {
    const { username, password } = request.body;
    const session = await checked(request, username, () => registry.login(username, password));
    if (!session) {
      audit.record({ actor: username, action: 'login_failed', target: 'session', ip: request.ip });
      request.log.warn({ username, ip: request.ip }, 'login failed');
      throw DashboardErrors.make('DSH_LOGIN_FAILED');
    }
    audit.record({ actor: username, action: 'login', target: 'session', ip: request.ip });
    const { user } = session;
    return { token: session.token, user: { username: user.username, role: user.role, regions: user.regions } };
  });

  app.post('/api/auth/password', { config: { roles: ROLES }, schema: { tags: ['auth'], summary: 'change your own password; every session of yours ends, this one too', body: PasswordChangeBody } }, async (request, reply) => {
    const username = request.user?.username ?? '';
    const ok = await checked(request, username, async () => ((await registry.checkPassword(username, request.body.current)) ? true : null));
    if (!ok) {
      audit.record({ actor: username, action: 'login_failed', target: 'session', ip: request.ip, detail: 'password change: wrong current password' });
      // 403, not 401: the session is valid, and a client that logs out on 401 must not here
      throw DashboardErrors.make('DSH_PASSWORD_WRONG');
    }
    await registry.setPassword(username, request.body.password);
    audit.record({ actor: username, action: 'password_change', target: `user:${username}`, ip: request.ip });
    return reply.code(204).send();
  });

  app.post('/api/auth/logout', { config: { roles: ROLES }, schema: { tags: ['auth'], summary: 'close this session' } }, async (request, reply) => {
    const token = bearerToken(request);
    if (token) registry.logout(token);
    audit.record({ actor: request.user?.username ?? '?', action: 'logout', target: 'session', ip: request.ip });
    return reply.code(204).send();
  });
};
