import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';
import type { Device, Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { canSee, userOf } from '../auth.js';
import { downsampleEstimates } from '../downsample.js';
import { DashboardErrors } from '../errors.js';
import { DeviceParams, EstimatesQuery } from '../schemas.js';
import type { AnalyticsView } from '../types.js';
import { alertItem } from './alerts.js';

export interface InstrumentDeps {
  registry: Registry;
  analytics: AnalyticsView;
  clock: Clock;
}

/** ms: the estimate range served when `from` is not given */
export const ESTIMATE_RANGE_MS = 400 * 86_400_000;
/** estimates read from the store before downsampling */
const MAX_ESTIMATES = 20_000;

export const instrumentRoutes: FastifyPluginAsyncZod<InstrumentDeps> = async (app, { registry, analytics, clock }) => {
  const visibleDevice = (id: string, user: Parameters<typeof canSee>[0]): Device => {
    const device = registry.getDevice(id);
    // Out-of-scope devices answer exactly like missing ones, so their existence is not revealed.
    if (!device || !canSee(user, device.region)) throw DashboardErrors.make('DSH_NOT_FOUND', `device ${id}`);
    return device;
  };

  app.get(
    '/api/devices/:id/state',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['instruments'],
        summary: 'grade with reasons, latest error estimate (MPE units) with its uncertainty, trend and projected crossing date, and the instrument’s alerts',
        params: DeviceParams,
      },
    },
    async (request) => {
      const device = visibleDevice(request.params.id, userOf(request));
      const st = analytics.state(device.id);
      const alerts = analytics.alerts.list({ deviceId: device.id, limit: 50 }).items.map(alertItem);
      const open = analytics.orders.list({ deviceId: device.id, status: 'open', limit: 1 }).items[0] ?? null;
      if (!st) return { device, analysed: false, grade: null, reasons: [], estimate: null, trend: null, change: null, verified: null, silent: false, tamper: [], failed: [], alerts, order: open };
      return {
        device,
        analysed: true,
        grade: st.grade,
        reasons: st.reasons,
        estimate: { at: st.at, ratio: st.ratio, sd: st.sd, pOut: st.pOut },
        trend: st.trend,
        change: st.change,
        skewMs: st.skewMs,
        verified: st.verified,
        silent: st.silent,
        tamper: st.tamper,
        failed: st.failed,
        alerts,
        order: open,
      };
    },
  );

  app.get(
    '/api/devices/:id/estimates',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['instruments'],
        summary: 'error estimates in [from, to): ratio = error / MPE with its standard uncertainty sd, downsampled server-side to at most `points`',
        params: DeviceParams,
        querystring: EstimatesQuery,
      },
    },
    async (request) => {
      const device = visibleDevice(request.params.id, userOf(request));
      const q = request.query;
      const to = q.to ?? clock.now() + 1;
      const from = q.from ?? to - ESTIMATE_RANGE_MS;
      if (from >= to) throw DashboardErrors.make('DSH_BAD_REQUEST', 'querystring.from: must be before to');
      const raw = analytics.estimates(device.id, from, to, MAX_ESTIMATES);
      const items = downsampleEstimates(raw, q.points);
      return { deviceId: device.id, from, to, count: raw.length, downsampled: items.length < raw.length, items };
    },
  );

  app.get(
    '/api/devices/:id/grades',
    { config: { roles: ROLES }, schema: { tags: ['instruments'], summary: 'grade changes, newest first, each with its reasons in Chinese and English', params: DeviceParams } },
    async (request) => {
      const device = visibleDevice(request.params.id, userOf(request));
      return { deviceId: device.id, items: analytics.gradeHistory(device.id) };
    },
  );
};
