import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSampling, type Sampling } from '../../analytics/sampling/sampling.js';
import { lotsDue } from '../../dashboard/overview.js';
import { samplingRoutes } from '../../dashboard/routes/sampling.js';
import { makeFixture, PASSWORD, type Fixture } from './fixture.js';

let f: Fixture;
let sampling: Sampling;
let inspSh: { authorization: string };
let regJs: { authorization: string };
beforeAll(async () => {
  f = await makeFixture();
  for (let i = 0; i < 30; i++) f.registry.addDevice({ id: `v-sh-${i}`, kind: 'meter', model: 'DDZY-7', accuracyClass: '2', region: 'SH', site: `s-${i % 2}`, installDate: '2020-01-01' });
  sampling = createSampling({ db: f.db, clock: f.clock, devices: () => f.registry.allDevices(), device: (id) => f.registry.getDevice(id) });
  sampling.start();
  void f.dashboard.app.register(samplingRoutes, { sampling });
  await f.registry.addUser({ username: 'insp-v', password: PASSWORD, role: 'inspector', regions: ['SH'] });
  const s = await f.registry.login('insp-v', PASSWORD);
  inspSh = { authorization: `Bearer ${s?.token ?? ''}` };
  await f.registry.addUser({ username: 'reg-js-v', password: PASSWORD, role: 'regulator', regions: ['JS'] });
  regJs = { authorization: `Bearer ${(await f.registry.login('reg-js-v', PASSWORD))?.token ?? ''}` };
});
afterAll(async () => f.close());

describe('sampling views for the page', () => {
  it('serves the OC curve of the plan, the list with its MPE, and verifications by instrument', async () => {
    const app = f.dashboard.app;
    const formed = await app.inject({ method: 'POST', url: '/api/lots', headers: f.auth('reg-sh'), payload: { region: 'SH', kind: 'meter' } });
    const id = (formed.json().items as { id: string; model: string }[]).find((l) => l.model === 'DDZY-7')?.id as string;
    expect((await app.inject({ method: 'GET', url: `/api/lots/${id}/oc`, headers: f.auth('reg-sh') })).json()).toMatchObject({ points: [], accept: null });
    await app.inject({ method: 'PUT', url: `/api/lots/${id}/plan`, headers: f.auth('reg-sh'), payload: { scheme: 'iso2859-1', aql: 1.0 } });
    const oc = await app.inject({ method: 'GET', url: `/api/lots/${id}/oc`, headers: f.auth('reg-sh') });
    const body = oc.json() as { lotSize: number; sampleSize: number; accept: number; points: { p: number; pAccept: number }[] };
    expect(body.lotSize).toBe(30);
    // 30 → D (level II); AQL 1.0: D ↓ → n = 13, Ac 0 (ISO 2859-1 Tables 1 and 2-A)
    expect(body).toMatchObject({ sampleSize: 13, accept: 0 });
    expect(body.points[0]).toEqual({ p: 0, pAccept: 1 });
    // c = 0: P(accept | one nonconforming in 30) = (30 − 13) / 30
    expect(body.points.find((q) => q.p === 1 / 30)?.pAccept ?? body.points[1]?.pAccept).toBeCloseTo(17 / 30, 6);
    expect((await app.inject({ method: 'GET', url: `/api/lots/${id}/oc`, headers: regJs })).statusCode).toBe(404);

    const lists = await app.inject({ method: 'POST', url: '/api/sampling-lists', headers: f.auth('reg-sh'), payload: { lotId: id, inspector: 'insp-v', seed: 9 } });
    const random = lists.json().random as { id: string; items: { deviceId: string }[] };
    const list = (await app.inject({ method: 'GET', url: `/api/sampling-lists/${random.id}`, headers: inspSh })).json() as { mpe: number; kind: string; results: unknown[] };
    expect(list).toMatchObject({ mpe: 0.02, kind: 'meter', results: [] });
    const device = random.items[0]?.deviceId as string;
    const rec = await app.inject({ method: 'POST', url: '/api/verifications', headers: inspSh, payload: { listId: random.id, deviceId: device, date: '2024-11-27', testPoints: [{ reference: 100, indicated: 103 }], certificate: 'c1', seal: 's1' } });
    expect(rec.json()).toMatchObject({ pass: false, mpe: 0.02 });
    const byDevice = await app.inject({ method: 'GET', url: `/api/verifications?deviceId=${device}`, headers: f.auth('reg-sh') });
    expect(byDevice.json().items).toHaveLength(1);
    expect(byDevice.json().items[0]).toMatchObject({ deviceId: device, certificate: 'c1' });
    // out of region: nothing, not an error that would reveal the instrument
    expect((await app.inject({ method: 'GET', url: `/api/verifications?deviceId=${device}`, headers: regJs })).json().items).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/api/verifications', headers: f.auth('reg-sh') })).statusCode).toBe(400);
  });

  it('counts open lots and those whose batch notice date has passed', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    const lots = [
      { status: 'open', noticeDate: '2025-06-01' },
      { status: 'open', noticeDate: '2026-01-01' },
      { status: 'accepted', noticeDate: '2020-01-01' },
    ];
    expect(lotsDue(lots, now)).toEqual({ open: 2, due: 1 });
  });
});
