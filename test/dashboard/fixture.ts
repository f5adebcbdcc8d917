import { ManualClock } from '../../lib/clock.js';
import { openDb, type Db } from '../../lib/sqlite.js';
import { Registry } from '../../registry/registry.js';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.js';
import { createDashboard, type Dashboard, type DashboardOptions, type QuarantineItem, type QuarantineQuery } from '../../dashboard/index.js';

export const PASSWORD = 'correct horse battery';
/** 2024-11-26T00:00:00Z */
export const T0 = Date.UTC(2024, 10, 26);

export interface Fixture {
  db: Db;
  clock: ManualClock;
  registry: Registry;
  store: SqliteTelemetryStore;
  dashboard: Dashboard;
  quarantineCalls: QuarantineQuery[];
  /** bearer tokens by username: admin, reg-sh, insp-js */
  tokens: Record<'admin' | 'reg-sh' | 'insp-js', string>;
  auth(user: keyof Fixture['tokens']): { authorization: string };
  close(): Promise<void>;
}

export const QUARANTINED: QuarantineItem[] = [
  { id: 'q1', deviceId: 'm-sh-1', topic: 'devices/m-sh-1/readings', payload: '{"ts":1}', reason: 'ING_PAYLOAD_INVALID', detail: 'seq: required', receivedAt: T0 },
];

/** A real registry and store over in-memory SQLite, three users, and a few devices in SH and JS. */
export async function makeFixture(
  extra: Partial<DashboardOptions> | ((parts: { db: Db; clock: ManualClock; registry: Registry }) => Partial<DashboardOptions>) = {},
): Promise<Fixture> {
  const db = openDb(':memory:');
  const clock = new ManualClock(T0);
  const registry = new Registry(db, () => clock.now());
  const store = SqliteTelemetryStore.open({ db });
  await registry.addUser({ username: 'admin', password: PASSWORD, role: 'admin' });
  await registry.addUser({ username: 'reg-sh', password: PASSWORD, role: 'regulator', regions: ['SH'] });
  await registry.addUser({ username: 'insp-js', password: PASSWORD, role: 'inspector', regions: ['JS'] });
  const base = { kind: 'meter', model: 'DDZY-1', accuracyClass: 'B', site: 'area-1', installDate: '2023-05-01' } as const;
  registry.addDevice({ ...base, id: 'm-sh-1', region: 'SH' });
  registry.addDevice({ ...base, id: 'm-sh-2', region: 'SH', site: 'area-2' });
  registry.addDevice({ ...base, id: 'm-js-1', region: 'JS' });
  registry.addDevice({ ...base, id: 's-js-1', region: 'JS', kind: 'scale', accuracyClass: 'III', params: { e: 0.005 } });

  const quarantineCalls: QuarantineQuery[] = [];
  const dashboard = createDashboard({
    registry,
    store,
    quarantine: {
      list(q) {
        quarantineCalls.push(q);
        return { items: QUARANTINED, nextCursor: null };
      },
    },
    stats: () => ({ ingest: { accepted: 7 } }),
    clock,
    wallClock: clock,
    logger: false,
    version: '9.9.9-test',
    ...(typeof extra === 'function' ? extra({ db, clock, registry }) : extra),
  });
  const tokens = {} as Fixture['tokens'];
  for (const u of ['admin', 'reg-sh', 'insp-js'] as const) {
    const s = await registry.login(u, PASSWORD);
    if (!s) throw new Error(`fixture login failed for ${u}`);
    tokens[u] = s.token;
  }
  return {
    db,
    clock,
    registry,
    store,
    dashboard,
    quarantineCalls,
    tokens,
    auth: (u) => ({ authorization: `Bearer ${tokens[u]}` }),
    async close() {
      await dashboard.close();
      await store.close();
      db.close();
    },
  };
}
