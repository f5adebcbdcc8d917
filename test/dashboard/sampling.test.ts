import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampling } from '../../analytics/sampling/sampling.js';
import { samplingRoutes } from '../../dashboard/routes/sampling.js';
import { makeFixture, PASSWORD, type Fixture } from './fixture.js';

let f: Fixture;
let inspSh: { authorization: string };
beforeAll(async () => {
  f = await makeFixture();
  for (let i = 0; i < 60; i++) f.registry.addDevice({ id: `x-sh-${i}`, kind: 'meter', model: 'DDZY-9', accuracyClass: '2', region: 'SH', site: `area-${i % 3}`, installDate: '2019-01-01' });
  const sampling = createSampling({ db: f.db, clock: f.clock, devices: () => f.registry.allDevices(), device: (id) => f.registry.getDevice(id) });
  sampling.start();
  // the composition root registers the plugin in buildApp; here it is added before the first request
  void f.dashboard.app.register(samplingRoutes, { sampling });
  await f.registry.addUser({ username: 'insp-sh', password: PASSWORD, role: 'inspector', regions: ['SH'] });
  const s = await f.registry.login('insp-sh', PASSWORD);
  inspSh = { authorization: `Bearer ${s?.token ?? ''}` };
});
afterAll(async () => f.close());

describe('sampling API', () => {
  it('plans, lists, records and decides a lot, region-scoped and role-checked', async () => {
    const app = f.dashboard.app;
    const formed = await app.inject({ method: 'POST', url: '/api/lots', headers: f.auth('reg-sh'), payload: { region: 'SH', kind: 'meter' } });
    expect(formed.statusCode).toBe(201);
    const lot = (formed.json().items as { id: string; size: number; model: string }[]).find((l) => l.model === 'DDZY-9');
    expect(lot?.size).toBe(60);
    const id = lot?.id as string;
    expect((await app.inject({ method: 'POST', url: '/api/lots', headers: f.auth('reg-sh'), payload: { region: 'JS' } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/lots', headers: f.auth('insp-js') })).statusCode).toBe(403);
    const plan = await app.inject({ method: 'PUT', url: `/api/lots/${id}/plan`, headers: f.auth('reg-sh'), payload: { scheme: 'iso2859-1', aql: 2.5 } });
    expect(plan.json()).toMatchObject({ sampleSize: 20, accept: 1, reject: 2 }); // 60 → E; AQL 2.5: E ↓ → F, n = 20, 1/2
    const lists = await app.inject({ method: 'POST', url: '/api/sampling-lists', headers: f.auth('reg-sh'), payload: { lotId: id, inspector: 'insp-sh', seed: 5 } });
    expect(lists.statusCode).toBe(201);
    const random = lists.json().random as { id: string; items: { deviceId: string }[] };
    expect(random.items).toHaveLength(20);
    const csv = await app.inject({ method: 'GET', url: `/api/sampling-lists/${random.id}/csv`, headers: inspSh });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.trim().split('\r\n')).toHaveLength(21);
    const html = await app.inject({ method: 'GET', url: `/api/sampling-lists/${random.id}/print`, headers: inspSh });
    expect(html.body).toContain('<h2>area-0</h2>');
    expect((await app.inject({ method: 'GET', url: `/api/sampling-lists/${random.id}`, headers: f.auth('insp-js') })).statusCode).toBe(404);
    // a list out of scope answers exactly as a missing one: same status, code and words
    const strip = (b: { detail: string; error: { message: string } }) => ({ ...b, detail: b.detail.replace(random.id, 'ID').replace('nope', 'ID'), error: { ...b.error, message: b.error.message.replace(random.id, 'ID').replace('nope', 'ID') } });
    const hidden = await app.inject({ method: 'GET', url: `/api/sampling-lists/${random.id}`, headers: f.auth('insp-js') });
    const absent = await app.inject({ method: 'GET', url: '/api/sampling-lists/nope', headers: f.auth('insp-js') });
    expect(absent.statusCode).toBe(404);
    expect(strip(absent.json())).toEqual(strip(hidden.json()));
    const absentLot = await app.inject({ method: 'GET', url: '/api/lots/nope', headers: f.auth('reg-sh') });
    expect(absentLot.json().code).toBe('DSH_NOT_FOUND');
    // a zero reference would make the error infinite: refused, and nothing is recorded for the instrument
    const zero = await app.inject({ method: 'POST', url: '/api/verifications', headers: inspSh, payload: { listId: random.id, deviceId: random.items[0]!.deviceId, date: '2024-11-27', testPoints: [{ reference: 0, indicated: 1 }], certificate: 'c0', seal: 's0' } });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().error.message).toMatch(/reference/);
    for (const [k, item] of random.items.entries()) {
      const r = await app.inject({ method: 'POST', url: '/api/verifications', headers: inspSh, payload: { listId: random.id, deviceId: item.deviceId, date: '2024-11-27', testPoints: [{ reference: 100, indicated: k < 2 ? 104 : 100.5 }], certificate: `c${k}`, seal: `s${k}` } });
      expect(r.statusCode).toBe(201);
    }
    const d = await app.inject({ method: 'POST', url: `/api/lots/${id}/decision`, headers: f.auth('reg-sh'), payload: {} });
    expect(d.json()).toMatchObject({ outcome: 'reject', action: 'replace' });
    const signed = await app.inject({ method: 'POST', url: `/api/lots/${id}/decision/sign`, headers: f.auth('reg-sh') });
    expect(signed.statusCode).toBe(200);
    const again = await app.inject({ method: 'POST', url: `/api/lots/${id}/decision`, headers: f.auth('reg-sh'), payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('SMP_DECISION_SIGNED');
  });
});
