import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';
import type { Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { userOf } from '../auth.js';
import { buildOverview } from '../overview.js';
import { OrderListQuery, OverviewQuery } from '../schemas.js';
import { regionsFor } from '../scope.js';
import type { AnalyticsView } from '../types.js';

export interface OverviewDeps {
  registry: Registry;
  analytics: AnalyticsView;
  clock: Clock;
}

export const overviewRoutes: FastifyPluginAsyncZod<OverviewDeps> = async (app, { registry, analytics, clock }) => {
  app.get(
    '/api/overview',
    {
      config: { roles: ROLES },
      schema: { tags: ['overview'], summary: 'instruments by kind and grade, unresolved alerts by severity, open replacement orders, alerts opened per day', querystring: OverviewQuery },
    },
    async (request) => {
      const { region, days } = request.query;
      const regions = regionsFor(userOf(request), region);
      return buildOverview(registry.allDevices(), analytics, regions, clock.now(), days);
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
