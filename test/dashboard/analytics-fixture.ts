import { createAnalytics } from '../../analytics/engine.js';
import { openDb } from '../../lib/sqlite.js';
import type { DashboardOptions, MetricsSnapshot } from '../../dashboard/index.js';
import { makeFixture, T0, type Fixture } from './fixture.js';

export const DAY = 86_400_000;

export interface AnalyticsFixture extends Fixture {
  analytics: ReturnType<typeof createAnalytics>;
  snapshot: MetricsSnapshot;
  raise(deviceId: string, region: 'SH' | 'JS', type: 'out_of_tolerance' | 'drift' | 'silent', at: number): number;
}

/** The dashboard fixture with the real analytics engine (its own in-memory database) and a metrics snapshot. */
export async function makeAnalyticsFixture(extra: Partial<DashboardOptions> = {}): Promise<AnalyticsFixture> {
  const adb = openDb(':memory:');
  let made: ReturnType<typeof createAnalytics> | null = null;
  const snapshot: MetricsSnapshot = { received: 10, accepted: 9, duplicates: 1, quarantined: { ING_SCHEMA_INVALID: 2 }, ingestPending: 3, storePending: 0, mqttConnections: 5, analyticsLagMs: 1500 };
  const f = await makeFixture(({ clock, registry }) => {
    made = createAnalytics({ db: adb, clock, devicesOfSite: (s) => registry.devicesOfSite(s), history: true });
    return { analytics: made, metrics: () => snapshot, stream: { heartbeatMs: 50 }, ...extra };
  });
  const a = made as unknown as ReturnType<typeof createAnalytics>;
  return {
    ...f,
    analytics: a,
    snapshot,
    raise(deviceId, region, type, at) {
      const alert = a.alerts.raise({ deviceId, region, kind: 'meter' }, type, at, { zh: `测试 ${type}`, en: `test ${type}` }, {});
      if (!alert) throw new Error('alert suppressed');
      return alert.id;
    },
    async close() {
      await f.close();
      adb.close();
    },
  };
}

export { T0 };
