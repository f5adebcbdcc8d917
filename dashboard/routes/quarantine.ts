import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { scopeOf, userOf } from '../auth.js';
import { QuarantineQuery } from '../schemas.js';
import type { QuarantineReader } from '../types.js';

export interface QuarantineDeps {
  quarantine: QuarantineReader;
}

export const quarantineRoutes: FastifyPluginAsyncZod<QuarantineDeps> = async (app, { quarantine }) => {
  app.get(
    '/api/quarantine',
    { config: { roles: ['admin', 'regulator'] }, schema: { tags: ['operations'], summary: 'rejected messages, newest first', querystring: QuarantineQuery } },
    async (request) => {
      const { limit, cursor, deviceId, reason } = request.query;
      const { items, nextCursor } = await quarantine.list({ limit, cursor, deviceId, reason, regions: scopeOf(userOf(request)) });
      return { items, nextCursor };
    },
  );
};
