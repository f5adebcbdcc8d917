import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Registry } from '../../registry/registry.js';
import { DeviceInput, ROLES } from '../../registry/schema.js';
import { importDevicesCsv } from '../../registry/csv-import.js';
import type { AuditLog } from '../audit.js';
import { canSee, scopeOf, userOf } from '../auth.js';
import { DashboardErrors } from '../errors.js';
import { DeviceListQuery, DeviceParams, DeviceStatusBody } from '../schemas.js';

export interface DevicesDeps {
  registry: Registry;
  audit: AuditLog;
}

/** bytes: a CSV of 10,000 devices fits with room to spare */
export const CSV_BODY_LIMIT = 10 * 1024 * 1024;

export const deviceRoutes: FastifyPluginAsyncZod<DevicesDeps> = async (app, { registry, audit }) => {
  // Scoped to this plugin: only the import route reads text/csv.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.get(
    '/api/devices',
    { config: { roles: ROLES }, schema: { tags: ['devices'], summary: 'devices in your regions, paged by id', querystring: DeviceListQuery } },
    async (request) => {
      const { limit, cursor, region, kind, site } = request.query;
      const scope = scopeOf(userOf(request));
      // Asking for a region outside one's scope yields nothing rather than an error: the list is the intersection.
      const regions = region === undefined ? scope : scope === undefined || scope.includes(region) ? [region] : [];
      return registry.listDevices({ region: regions, kind, site }, limit, cursor);
    },
  );

  app.get(
    '/api/devices/:id',
    { config: { roles: ROLES }, schema: { tags: ['devices'], summary: 'one device', params: DeviceParams } },
    async (request) => {
      const device = registry.getDevice(request.params.id);
      // Out-of-scope devices answer exactly like missing ones, so their existence is not revealed.
      if (!device || !canSee(userOf(request), device.region)) throw DashboardErrors.make('DSH_NOT_FOUND', `device ${request.params.id}`);
      return device;
    },
  );

  app.post(
    '/api/devices',
    { config: { roles: ['admin'] }, schema: { tags: ['devices'], summary: 'register a device; its secret is shown only in this answer', body: DeviceInput } },
    async (request, reply) => {
      const { device, secret } = registry.addDevice(request.body);
      request.log.info({ deviceId: device.id, by: userOf(request).username }, 'device added');
      audit.record({ actor: userOf(request).username, action: 'device_add', target: `device:${device.id}`, ip: request.ip });
      return reply.code(201).send({ id: device.id, secret });
    },
  );

  app.patch(
    '/api/devices/:id',
    { config: { roles: ['admin'] }, schema: { tags: ['devices'], summary: 'suspend, reactivate or retire a device; a suspended device is disconnected and refused at CONNECT', params: DeviceParams, body: DeviceStatusBody } },
    async (request) => {
      const { id } = request.params;
      registry.setDeviceStatus(id, request.body.status);
      audit.record({ actor: userOf(request).username, action: 'device_status', target: `device:${id}`, ip: request.ip, detail: request.body.status });
      request.log.info({ deviceId: id, status: request.body.status, by: userOf(request).username }, 'device status changed');
      return registry.getDevice(id);
    },
  );

  app.post(
    '/api/devices/:id/secret',
    { config: { roles: ['admin'] }, schema: { tags: ['devices'], summary: 'issue a new secret (the old one stops working and the device is disconnected); shown only in this answer', params: DeviceParams } },
    async (request) => {
      const { id } = request.params;
      const secret = registry.rotateDeviceSecret(id);
      audit.record({ actor: userOf(request).username, action: 'device_secret', target: `device:${id}`, ip: request.ip });
      return { id, secret };
    },
  );

  app.post(
    '/api/devices/import',
    {
      config: { roles: ['admin'] },
      bodyLimit: CSV_BODY_LIMIT,
      schema: {
        tags: ['devices'],
        summary: 'register devices from a CSV file (text/csv; header id,kind,model,accuracyClass,region,site,role,installDate)',
        consumes: ['text/csv'],
      },
    },
    async (request) => {
      if (typeof request.body !== 'string') throw DashboardErrors.make('DSH_UNSUPPORTED_MEDIA_TYPE', 'send the file as text/csv');
      const report = await importDevicesCsv(registry, request.body);
      request.log.info({ created: report.created.length, failed: report.failed.length, by: userOf(request).username }, 'devices imported');
      audit.record({ actor: userOf(request).username, action: 'device_import', target: 'devices', ip: request.ip, detail: `${report.created.length} created, ${report.failed.length} failed` });
      return report;
    },
  );
};
