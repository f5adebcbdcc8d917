import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export interface StatsDeps {
  stats: () => Record<string, unknown>;
}

export const statsRoutes: FastifyPluginAsyncZod<StatsDeps> = async (app, { stats }) => {
  app.get('/api/stats', { config: { roles: ['admin', 'regulator'] }, schema: { tags: ['operations'], summary: 'ingest, broker and store counters' } }, async () => stats());
};
