import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from '../../registry/registry.js';
import type { AuditLog } from '../audit.js';
import { userOf } from '../auth.js';
import { AuditQuery, UserBody } from '../schemas.js';

export interface UsersDeps {
  registry: Registry;
  audit: AuditLog;
}

export const userRoutes: FastifyPluginAsyncZod<UsersDeps> = async (app, { registry, audit }) => {
  app.post(
    '/api/users',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], summary: 'create a user with a role and a region scope', body: UserBody } },
    async (request, reply) => {
      const user = registry.addUser(request.body);
      const by = userOf(request).username;
      audit.record({ actor: by, action: 'user_add', target: `user:${user.username}`, ip: request.ip, detail: `${user.role} ${user.regions.join(',') || 'all'}` });
      request.log.info({ username: user.username, role: user.role, by }, 'user added');
      return reply.code(201).send(user);
    },
  );

  app.get(
    '/api/audit',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], summary: 'the audit log: logins and state changes, newest first', querystring: AuditQuery } },
    async (request) => audit.list(request.query),
  );
};
