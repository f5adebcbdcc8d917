import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Alert } from '../../analytics/state/alerts.js';
import type { Clock } from '../../lib/clock.js';
import { ROLES } from '../../registry/schema.js';
import type { AuditLog } from '../audit.js';
import { canSee, userOf } from '../auth.js';
import { toCsv } from '../csv.js';
import { DashboardErrors } from '../errors.js';
import { AlertListQuery, AlertParams, CommentBody } from '../schemas.js';
import { regionsFor } from '../scope.js';
import type { AnalyticsView } from '../types.js';

export interface AlertsDeps {
  analytics: AnalyticsView;
  audit: AuditLog;
  clock: Clock;
}

/** The list item the API promises (issue 6: id, deviceId, region, kind, type, severity, status, openedAt, updatedAt, summary). */
export function alertItem(a: Alert) {
  return {
    id: a.id,
    deviceId: a.deviceId,
    region: a.region,
    kind: a.kind,
    type: a.type,
    severity: a.severity,
    status: a.status,
    active: a.active,
    openedAt: a.openedAt,
    updatedAt: a.updatedAt,
    summary: a.summary,
  };
}

const CSV_COLUMNS: readonly { name: string; value: (a: Alert) => unknown }[] = [
  { name: 'id', value: (a) => a.id },
  { name: 'deviceId', value: (a) => a.deviceId },
  { name: 'region', value: (a) => a.region },
  { name: 'kind', value: (a) => a.kind },
  { name: 'type', value: (a) => a.type },
  { name: 'severity', value: (a) => a.severity },
  { name: 'status', value: (a) => a.status },
  { name: 'openedAt', value: (a) => new Date(a.openedAt).toISOString() },
  { name: 'updatedAt', value: (a) => new Date(a.updatedAt).toISOString() },
  { name: 'summary_zh', value: (a) => a.summary.zh },
  { name: 'summary_en', value: (a) => a.summary.en },
];

export const alertRoutes: FastifyPluginAsyncZod<AlertsDeps> = async (app, { analytics, audit, clock }) => {
  app.get(
    '/api/alerts',
    {
      config: { roles: ROLES },
      schema: { tags: ['alerts'], summary: 'alerts in your regions, newest first, paged by id; format=csv for a spreadsheet', querystring: AlertListQuery },
    },
    async (request, reply) => {
      const { region, cursor, limit, format, ...filter } = request.query;
      const { items, nextCursor } = analytics.alerts.list({ ...filter, regions: regionsFor(userOf(request), region), cursor, limit });
      if (format === 'csv') {
        if (nextCursor !== null) reply.header('link', `<?cursor=${nextCursor}>; rel="next"`);
        return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="alerts.csv"').send(toCsv(CSV_COLUMNS, items));
      }
      return { items: items.map(alertItem), nextCursor };
    },
  );

  const visible = (id: number, user: Parameters<typeof canSee>[0]) => {
    const a = analytics.alerts.get(id);
    // Out-of-scope alerts answer exactly like missing ones, so their existence is not revealed.
    if (!a || !canSee(user, a.region)) throw DashboardErrors.make('DSH_NOT_FOUND', `alert ${id}`);
    return a;
  };

  app.get(
    '/api/alerts/:id',
    { config: { roles: ROLES }, schema: { tags: ['alerts'], summary: 'one alert with its evidence and history', params: AlertParams } },
    async (request) => visible(request.params.id, userOf(request)),
  );

  for (const action of ['ack', 'resolve'] as const) {
    app.post(
      `/api/alerts/:id/${action}`,
      {
        config: { roles: ['admin', 'regulator'] },
        schema: {
          tags: ['alerts'],
          summary: action === 'ack' ? 'acknowledge an alert (a latched one is resolved)' : 'resolve an alert (e.g. the instrument was replaced or verified)',
          params: AlertParams,
          body: CommentBody,
        },
      },
      async (request) => {
        const user = userOf(request);
        const { id } = request.params;
        visible(id, user);
        const { comment } = request.body;
        const at = clock.now();
        const a = action === 'ack' ? analytics.alerts.acknowledge(id, user.username, comment, at) : analytics.alerts.resolve(id, user.username, comment, at);
        if (!a) throw DashboardErrors.make('DSH_NOT_FOUND', `alert ${id}`);
        audit.record({ actor: user.username, action: action === 'ack' ? 'alert_ack' : 'alert_resolve', target: `alert:${id}`, ip: request.ip, detail: comment });
        request.log.info({ alert: id, by: user.username, status: a.status }, `alert ${action}`);
        return alertItem(a);
      },
    );
  }
};
