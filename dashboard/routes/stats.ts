import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

export interface StatsDeps {
  stats: () => Record<string, unknown>;
}

export const statsRoutes: FastifyPluginAsyncZod<StatsDeps> = async (app, { stats }) => {
  // platform-wide counters (every region's): for operators; regional users have /api/overview
  app.get('/api/stats', { config: { roles: ['admin'] }, schema: { tags: ['operations'], summary: 'ingest, broker and store counters (admin)' } }, async () => stats());
};
