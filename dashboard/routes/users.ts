import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from '../../registry/registry.js';
import type { AuditLog } from '../audit.js';
import { userOf } from '../auth.js';
import { DashboardErrors } from '../errors.js';
import { AuditQuery, UserBody, UserParams, UserUpdateBody } from '../schemas.js';

export interface UsersDeps {
  registry: Registry;
  audit: AuditLog;
}

export const userRoutes: FastifyPluginAsyncZod<UsersDeps> = async (app, { registry, audit }) => {
  app.post(
    '/api/users',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], summary: 'create a user with a role and a region scope', body: UserBody } },
    async (request, reply) => {
      const user = await registry.addUser(request.body);
      const by = userOf(request).username;
      audit.record({ actor: by, action: 'user_add', target: `user:${user.username}`, ip: request.ip, detail: `${user.role} ${user.regions.join(',') || 'all'}` });
      request.log.info({ username: user.username, role: user.role, by }, 'user added');
      return reply.code(201).send(user);
    },
  );

  app.patch(
    '/api/users/:username',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], summary: 'disable or re-enable a user, or set their password; either ends their sessions', params: UserParams, body: UserUpdateBody } },
    async (request) => {
      const { username } = request.params;
      const by = userOf(request).username;
      if (request.body.disabled === true && username === by) throw DashboardErrors.make('DSH_BAD_REQUEST', 'an administrator cannot disable their own account');
      // an unknown user is REG_USER_NOT_FOUND (404) from either setter
      if (request.body.password !== undefined) await registry.setPassword(username, request.body.password);
      if (request.body.disabled !== undefined) registry.setUserDisabled(username, request.body.disabled);
      const what = [request.body.disabled === undefined ? null : request.body.disabled ? 'disabled' : 'enabled', request.body.password === undefined ? null : 'password set'].filter(Boolean).join(', ');
      audit.record({ actor: by, action: 'user_update', target: `user:${username}`, ip: request.ip, detail: what });
      return registry.getUser(username);
    },
  );

  app.get(
    '/api/audit',
    { config: { roles: ['admin'] }, schema: { tags: ['users'], summary: 'the audit log: logins and state changes, newest first', querystring: AuditQuery } },
    async (request) => audit.list(request.query),
  );
};
