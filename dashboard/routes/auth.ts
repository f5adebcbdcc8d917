import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { bearerToken } from '../auth.js';
import { DashboardErrors } from '../errors.js';
import type { AuditLog } from '../audit.js';
import type { LoginLimiter } from '../login-limiter.js';
import { LoginBody } from '../schemas.js';

export interface AuthDeps {
  registry: Registry;
  limiter: LoginLimiter;
  audit: AuditLog;
}

export const authRoutes: FastifyPluginAsyncZod<AuthDeps> = async (app, { registry, limiter, audit }) => {
  app.post('/api/auth/login', { config: { public: true }, schema: { tags: ['auth'], summary: 'open a session', body: LoginBody } }, async (request) => {
    const { username, password } = request.body;
    const key = `${request.ip}\u0000${username}`;
    // Checked before the password so a blocked client costs no scrypt work.
    const wait = limiter.retryAfter(key);
    if (wait > 0) {
      audit.record({ actor: username, action: 'login_failed', target: 'session', ip: request.ip, detail: 'rate limited' });
      throw DashboardErrors.make('DSH_LOGIN_RATE_LIMITED', wait);
    }
    const session = await registry.login(username, password);
    if (!session) {
      limiter.fail(key);
      audit.record({ actor: username, action: 'login_failed', target: 'session', ip: request.ip });
      request.log.warn({ username, ip: request.ip }, 'login failed');
      throw DashboardErrors.make('DSH_LOGIN_FAILED');
    }
    limiter.succeed(key);
    audit.record({ actor: username, action: 'login', target: 'session', ip: request.ip });
    const { user } = session;
    return { token: session.token, user: { username: user.username, role: user.role, regions: user.regions } };
  });

  app.post('/api/auth/logout', { config: { roles: ROLES }, schema: { tags: ['auth'], summary: 'close this session' } }, async (request, reply) => {
    const token = bearerToken(request);
    if (token) registry.logout(token);
    audit.record({ actor: request.user?.username ?? '?', action: 'logout', target: 'session', ip: request.ip });
    return reply.code(204).send();
  });
};
