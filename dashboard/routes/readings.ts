import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Clock } from '../../lib/clock.js';
import type { Registry } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import type { TelemetryStore } from '../../ingest/store/port.js';
import { canSee, userOf } from '../auth.js';
import { niceBucket } from '../bucket.js';
import { DashboardErrors } from '../errors.js';
import { DeviceParams, ReadingsQuery } from '../schemas.js';

export interface ReadingsDeps {
  registry: Registry;
  store: TelemetryStore;
  clock: Clock;
}

/** ms: the range served when `from` is not given */
export const DEFAULT_RANGE_MS = 7 * 24 * 3600_000;

export const readingsRoutes: FastifyPluginAsyncZod<ReadingsDeps> = async (app, { registry, store, clock }) => {
  app.get(
    '/api/devices/:id/readings',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['devices'],
        summary: 'a device’s readings in [from, to); downsampled into buckets when there are more than `limit` or `bucket` (ms) is given',
        params: DeviceParams,
        querystring: ReadingsQuery,
      },
    },
    async (request) => {
      const { id } = request.params;
      const device = registry.getDevice(id);
      if (!device || !canSee(userOf(request), device.region)) throw DashboardErrors.make('DSH_NOT_FOUND', `device ${id}`);
      const q = request.query;
      const to = q.to ?? clock.now();
      const from = q.from ?? to - DEFAULT_RANGE_MS;
      if (from >= to) throw DashboardErrors.make('DSH_BAD_REQUEST', `querystring.from: must be before to (${new Date(to).toISOString()})`);
      const range = { from, to, limit: q.limit };

      let bucketMs = q.bucket;
      if (bucketMs === undefined) {
        // One row beyond the limit tells whether the raw range fits.
        const rows = await store.range(id, device.kind, { ...range, limit: q.limit + 1 });
        if (rows.length <= q.limit) {
          const items = rows.map((r) => ({ ts: r.ts, seq: r.seq, receivedAt: r.receivedAt, ...r.fields, events: r.events }));
          return { deviceId: id, kind: device.kind, from, to, downsampled: false, items };
        }
        bucketMs = niceBucket(to - from, q.limit);
      }
      const items = await store.downsample(id, device.kind, { ...range, bucketMs });
      return { deviceId: id, kind: device.kind, from, to, downsampled: true, bucketMs, items };
    },
  );
};
