import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { createQuarantine } from '../../ingest/quarantine.js';
import { makeFixture, QUARANTINED, T0, type Fixture } from './fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
});
afterAll(async () => f.close());

describe('GET /api/quarantine', () => {
  it('passes the admin’s filters through with no region scope', async () => {
    f.quarantineCalls.length = 0;
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/quarantine?limit=20&deviceId=m-sh-1&reason=ING_PAYLOAD_INVALID&cursor=abc', headers: f.auth('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ items: QUARANTINED, nextCursor: null });
    expect(f.quarantineCalls).toEqual([{ limit: 20, cursor: 'abc', deviceId: 'm-sh-1', reason: 'ING_PAYLOAD_INVALID', regions: undefined }]);
  });

  it('scopes a regulator to their regions and applies the default limit', async () => {
    f.quarantineCalls.length = 0;
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/quarantine', headers: f.auth('reg-sh') });
    expect(res.statusCode).toBe(200);
    expect(f.quarantineCalls[0]).toMatchObject({ limit: 100, regions: ['SH'] });
  });

  it('answers 400 for a reason that is not a code', async () => {
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/quarantine?reason=drop%20table', headers: f.auth('admin') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('querystring.reason');
  });
});

describe('GET /api/stats', () => {
  it('returns the composition root’s platform-wide stats to admins only: a regional regulator has the overview', async () => {
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/stats', headers: f.auth('admin') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ingest: { accepted: 7 } });
    expect((await f.dashboard.app.inject({ method: 'GET', url: '/api/stats', headers: f.auth('reg-sh') })).statusCode).toBe(403);
  });
});

describe('over ingest’s SQLite quarantine', () => {
  it('lists newest first, scoped to the regulator’s regions, paged by cursor', async () => {
    const qdb = openDb(':memory:');
    const quarantine = createQuarantine({ db: qdb });
    quarantine.start();
    const entry = (deviceId: string, region: 'SH' | 'JS', i: number) => ({
      deviceId,
      region,
      topic: `devices/${deviceId}/readings`,
      payload: Buffer.from(`{"n":${i}}`),
      reason: 'ING_SCHEMA_INVALID' as const,
      detail: 'seq: required',
      receivedAt: T0 + i,
    });
    quarantine.add([entry('m-sh-1', 'SH', 1), entry('m-js-1', 'JS', 2), entry('m-sh-2', 'SH', 3)]);
    const g = await makeFixture({ quarantine });
    try {
      const first = await g.dashboard.app.inject({ method: 'GET', url: '/api/quarantine?limit=1', headers: g.auth('reg-sh') });
      const p1 = first.json<{ items: { deviceId: string; payload: string }[]; nextCursor: string }>();
      expect(p1.items.map((x) => [x.deviceId, x.payload])).toEqual([['m-sh-2', '{"n":3}']]);
      const second = await g.dashboard.app.inject({ method: 'GET', url: `/api/quarantine?limit=5&cursor=${p1.nextCursor}`, headers: g.auth('reg-sh') });
      expect(second.json<{ items: { deviceId: string }[] }>().items.map((x) => x.deviceId)).toEqual(['m-sh-1']);
      const all = await g.dashboard.app.inject({ method: 'GET', url: '/api/quarantine', headers: g.auth('admin') });
      expect(all.json<{ items: unknown[] }>().items).toHaveLength(3);
    } finally {
      await g.close();
      quarantine.close();
      qdb.close();
    }
  });
});
