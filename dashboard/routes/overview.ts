import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';
import type { Sampling } from '../../analytics/sampling/sampling.js';
import type { Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { userOf } from '../auth.js';
import { buildOverview, lotsDue } from '../overview.js';
import { OrderListQuery, OverviewQuery } from '../schemas.js';
import { regionsFor } from '../scope.js';
import type { AnalyticsView } from '../types.js';

export interface OverviewDeps {
  registry: Registry;
  analytics: AnalyticsView;
  clock: Clock;
  /** when given, the overview counts the lots due for sampling */
  sampling?: Sampling | undefined;
}

export const overviewRoutes: FastifyPluginAsyncZod<OverviewDeps> = async (app, { registry, analytics, clock, sampling }) => {
  app.get(
    '/api/overview',
    {
      config: { roles: ROLES },
      schema: { tags: ['overview'], summary: 'instruments by kind and grade, unresolved alerts by severity, open replacement orders, alerts opened per day', querystring: OverviewQuery },
    },
    async (request) => {
      const { region, days } = request.query;
      const regions = regionsFor(userOf(request), region);
      const now = clock.now();
      const overview = buildOverview(registry.allDevices(), analytics, regions, now, days);
      return { ...overview, lots: sampling ? lotsDue(sampling.lots(regions), now) : null };
    },
  );

  app.get(
    '/api/orders',
    { config: { roles: ROLES }, schema: { tags: ['overview'], summary: 'replacement orders in your regions, newest first, paged by id', querystring: OrderListQuery } },
    async (request) => {
      const { region, status, cursor, limit } = request.query;
      return analytics.orders.list({ regions: regionsFor(userOf(request), region), status, cursor, limit });
    },
  );
};
