import { systemClock } from '../lib/clock.js';
import { createFailureLimiter } from '../lib/failure-limiter.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { installAuth } from './auth.js';
import { registerDocs } from './docs.js';
import { installErrorHandler } from './error-handler.js';
import { authRoutes } from './routes/auth.js';
import { deviceRoutes } from './routes/devices.js';
import { healthRoutes } from './routes/health.js';
import { quarantineRoutes } from './routes/quarantine.js';
import { readingsRoutes } from './routes/readings.js';
import { statsRoutes } from './routes/stats.js';
import { alertRoutes } from './routes/alerts.js';
import { instrumentRoutes } from './routes/instrument.js';
import { overviewRoutes } from './routes/overview.js';
import { streamRoutes } from './routes/stream.js';
import { userRoutes } from './routes/users.js';
import { samplingRoutes } from './routes/sampling.js';
import { createAuditLog, type AuditLog } from './audit.js';
import { createMetrics } from './metrics.js';
import { registerWeb } from './web.js';
import type { DashboardOptions } from './types.js';

/** bytes: JSON bodies are small; the CSV import route raises its own limit */
export const BODY_LIMIT = 1024 * 1024;

/**
 * Builds the API without listening (fastify's app/server split): tests drive it with inject,
 * createDashboard listens. Plugins register lazily, so nothing runs until ready() or listen().
 */
export function buildApp(opts: DashboardOptions, given?: AuditLog): FastifyInstance {
  const version = opts.version ?? '0.0.0';
  // forceCloseConnections: live streams and kept-alive sockets would otherwise hold close() open.
  // requestTimeout: a request must arrive whole within 30 s (a client trickling a body cannot hold a
  // socket for ever); connectionTimeout closes sockets idle for 2 minutes (live streams send a
  // heartbeat every 15 s).
  const base = { bodyLimit: BODY_LIMIT, trustProxy: opts.trustProxy ?? false, return503OnClosing: true, forceCloseConnections: true, requestTimeout: 30_000, connectionTimeout: 120_000 };
  // Widened to fastify's logger interface so the instance has the plain FastifyInstance type.
  const loggerInstance: FastifyBaseLogger | false = opts.logger;
  const app: FastifyInstance = loggerInstance === false ? Fastify({ ...base, logger: false }) : Fastify({ ...base, loggerInstance });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  // Before any route is registered: the onRoute check must see every one of them.
  installAuth(app, opts.registry);
  const wallClock = opts.wallClock ?? systemClock;
  const audit = given ?? createAuditLog({ db: opts.auditDb, clock: wallClock });
  // An audit log built here is this app's to close; one handed in belongs to the caller.
  if (!given) app.addHook('onClose', async () => audit.close());
  createMetrics(opts.metrics).install(app);

  // Default helmet headers; no CORS plugin, so browsers keep the same-origin policy.
  void app.register(helmet, { global: true });
  if (opts.docs ?? true) registerDocs(app, version);

  const limits = opts.loginLimit ?? {};
  // failed logins per address and username (one attacker cannot lock a user out from everywhere)
  // and per address (a client cycling through names); OWASP Authentication Cheat Sheet, "Login Throttling"
  const limiter = createFailureLimiter(wallClock, {
    maxFailures: limits.maxFailures ?? 5,
    windowMs: limits.windowMs ?? 15 * 60_000,
    maxKeys: limits.maxKeys ?? 10_000,
  });
  const ipLimiter = createFailureLimiter(wallClock, {
    maxFailures: limits.maxFailuresPerIp ?? 30,
    windowMs: limits.windowMs ?? 15 * 60_000,
    maxKeys: limits.maxKeys ?? 10_000,
  });
  const startedAt = opts.clock.now();

  void app.register(healthRoutes, { clock: opts.clock, version, startedAt });
  void app.register(authRoutes, { registry: opts.registry, limiter, ipLimiter, audit, maxConcurrent: limits.maxConcurrent ?? 4, clock: wallClock });
  void app.register(deviceRoutes, { registry: opts.registry, audit });
  void app.register(readingsRoutes, { registry: opts.registry, store: opts.store, clock: opts.clock });
  void app.register(quarantineRoutes, { quarantine: opts.quarantine });
  void app.register(statsRoutes, { stats: opts.stats });
  void app.register(userRoutes, { registry: opts.registry, audit });
  const analytics = opts.analytics;
  if (analytics) {
    void app.register(alertRoutes, { analytics, audit, clock: opts.clock });
    void app.register(streamRoutes, { analytics, registry: opts.registry, ...opts.stream });
    void app.register(instrumentRoutes, { analytics, registry: opts.registry, clock: opts.clock });
    void app.register(overviewRoutes, { analytics, registry: opts.registry, clock: opts.clock, ...(opts.sampling ? { sampling: opts.sampling } : {}) });
  }
  if (opts.sampling) void app.register(samplingRoutes, { sampling: opts.sampling });
  if (opts.web ?? true) registerWeb(app);
  return app;
}
