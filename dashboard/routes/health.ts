import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';

export interface HealthDeps {
  clock: Clock;
  version: string;
  /** ms, when the dashboard was built */
  startedAt: number;
}

export const healthRoutes: FastifyPluginAsyncZod<HealthDeps> = async (app, deps) => {
  app.get('/api/health', { config: { public: true }, schema: { tags: ['health'], summary: 'liveness' } }, async () => ({
    status: 'ok' as const,
    uptimeS: Math.max(0, Math.floor((deps.clock.now() - deps.startedAt) / 1000)),
    version: deps.version,
  }));
};
