import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Region } from '../ingest/readings.js';
import type { Registry, User } from '../registry/registry.js';
import type { Role } from '../registry/schema.js';
import { DashboardErrors } from './errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** roles allowed on the route; a route with neither this nor `public` cannot be registered */
    roles?: readonly Role[];
    /** open without a session (health, login, the API documentation) */
    public?: boolean;
  }
  interface FastifyRequest {
    /** the session's user; set on every non-public route before its handler runs */
    user: User | null;
  }
}

/**
 * Prefixes whose routes are public however they were registered: the documentation plugin's and
 * the web page's static files (code and styles only; every datum comes through the API).
 */
const PUBLIC_PREFIXES = ['/docs', '/app/'];

/** The bearer token of a request, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(h);
  return m?.[1] ?? null;
}

/**
 * Deny by default: every route must declare `config.roles` or `config.public` when it is
 * registered (a route that forgets fails at startup, not in production), and each request
 * to a non-public route needs a session whose role is listed.
 */
export function installAuth(app: FastifyInstance, registry: Registry): void {
  app.decorateRequest('user', null);

  app.addHook('onRoute', (route) => {
    if (PUBLIC_PREFIXES.some((p) => route.url.startsWith(p))) {
      route.config = { ...route.config, public: true };
      return;
    }
    if (!route.config?.public && !route.config?.roles?.length) {
      throw new Error(`route ${String(route.method)} ${route.url} declares neither config.roles nor config.public`);
    }
  });

  // onRequest runs before the body is read, so anonymous requests never get a body parsed.
  app.addHook('onRequest', async (request) => {
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public) return;
    const token = bearerToken(request);
    const user = token ? registry.sessionUser(token) : null;
    if (!user) throw DashboardErrors.make('DSH_UNAUTHENTICATED');
    if (!config.roles?.includes(user.role)) throw DashboardErrors.make('DSH_FORBIDDEN', `${request.method} ${request.routeOptions.url ?? ''} needs ${config.roles?.join(' or ') ?? 'a role'}`);
    request.user = user;
  });
}

/** The user of a non-public route (the onRequest hook has set it). */
export function userOf(request: FastifyRequest): User {
  if (!request.user) throw DashboardErrors.make('DSH_UNAUTHENTICATED');
  return request.user;
}

/** Regions a user may see: undefined for all (admins), else their own list. */
export function scopeOf(user: User): readonly Region[] | undefined {
  return user.role === 'admin' ? undefined : user.regions;
}

export function canSee(user: User, region: Region): boolean {
  const scope = scopeOf(user);
  return scope === undefined || scope.includes(region);
}
