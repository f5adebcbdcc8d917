import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture, type Fixture } from './fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
});
afterAll(async () => f.close());

const NEW = { id: 'd-sh-9', kind: 'dispenser', model: 'TQ-2', accuracyClass: '0.5', region: 'SH', site: 'station-3', role: 'customer', installDate: '2024-03-01', params: { nozzles: 4 } };

describe('POST /api/devices', () => {
  it('creates the device and shows its secret once', async () => {
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices', headers: f.auth('admin'), payload: NEW });
    expect(res.statusCode).toBe(201);
    const { id, secret } = res.json<{ id: string; secret: string }>();
    expect(id).toBe('d-sh-9');
    expect(await f.registry.authenticateDevice(id, secret)).not.toBeNull();
    const got = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices/d-sh-9', headers: f.auth('admin') });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: 'd-sh-9', kind: 'dispenser', region: 'SH', params: { nozzles: 4 }, status: 'active' });
    expect(got.body).not.toContain(secret);
    expect(got.body).not.toMatch(/secret/i);
  });

  it('answers 409 REG_DEVICE_EXISTS for a duplicate id', async () => {
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices', headers: f.auth('admin'), payload: NEW });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('REG_DEVICE_EXISTS');
  });

  it('answers 400 naming the invalid field', async () => {
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices', headers: f.auth('admin'), payload: { ...NEW, id: 'd-x', region: 'XX' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('DSH_BAD_REQUEST');
    expect(res.json().error.message).toMatch(/^invalid request: body\.region: /);
    const unknown = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices', headers: f.auth('admin'), payload: { ...NEW, id: 'd-y', colour: 'red' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toContain('colour');
    expect(f.registry.getDevice('d-x')).toBeNull();
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const res = await f.dashboard.app.inject({
      method: 'POST',
      url: '/api/devices',
      headers: { ...f.auth('admin'), 'content-type': 'application/json' },
      payload: JSON.stringify({ ...NEW, model: 'x'.repeat(1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('DSH_BODY_TOO_LARGE');
  });
});

describe('region scoping', () => {
  it('lists only the regulator’s region, with a matching total', async () => {
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices', headers: f.auth('reg-sh') });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ items: { id: string; region: string }[]; total: number; nextCursor: string | null }>();
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.every((d) => d.region === 'SH')).toBe(true);
    expect(body.total).toBe(body.items.length);
    expect(body.items.map((d) => d.id)).not.toContain('m-js-1');
  });

  it('gives a regulator an empty list for a region outside their scope', async () => {
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?region=JS', headers: f.auth('reg-sh') });
    expect(res.json()).toEqual({ items: [], total: 0, nextCursor: null });
  });

  it('answers 404 for a device outside the user’s regions, exactly as for a missing one', async () => {
    const hidden = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices/m-js-1', headers: f.auth('reg-sh') });
    const missing = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices/m-zz-0', headers: f.auth('reg-sh') });
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(hidden.json().error.code).toBe('DSH_NOT_FOUND');
    expect(hidden.json().error.message.replace('m-js-1', 'ID')).toBe(missing.json().error.message.replace('m-zz-0', 'ID'));
    const readings = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices/m-js-1/readings', headers: f.auth('reg-sh') });
    expect(readings.statusCode).toBe(404);
  });

  it('lets an inspector of JS see JS devices and the admin see all', async () => {
    expect((await f.dashboard.app.inject({ method: 'GET', url: '/api/devices/m-js-1', headers: f.auth('insp-js') })).statusCode).toBe(200);
    const all = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices', headers: f.auth('admin') });
    expect(new Set(all.json<{ items: { region: string }[] }>().items.map((d) => d.region))).toEqual(new Set(['SH', 'JS']));
  });
});

describe('GET /api/devices paging and filters', () => {
  it('pages by cursor and filters by kind and site', async () => {
    const first = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?limit=2', headers: f.auth('admin') });
    const p1 = first.json<{ items: { id: string }[]; total: number; nextCursor: string }>();
    expect(p1.items).toHaveLength(2);
    expect(p1.total).toBe(5);
    const second = await f.dashboard.app.inject({ method: 'GET', url: `/api/devices?limit=2&cursor=${p1.nextCursor}`, headers: f.auth('admin') });
    const p2 = second.json<{ items: { id: string }[] }>();
    expect((p2.items[0]?.id ?? '') > (p1.items[1]?.id ?? '')).toBe(true);
    const scales = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?kind=scale', headers: f.auth('admin') });
    expect(scales.json<{ items: { id: string }[] }>().items.map((d) => d.id)).toEqual(['s-js-1']);
    const site = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?site=area-2', headers: f.auth('reg-sh') });
    expect(site.json<{ items: { id: string }[] }>().items.map((d) => d.id)).toEqual(['m-sh-2']);
  });

  it('answers 400 naming the query field for a limit over 500 or an unknown kind', async () => {
    const big = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?limit=501', headers: f.auth('admin') });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.message).toMatch(/^invalid request: querystring\.limit: /);
    const kind = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices?kind=toaster', headers: f.auth('admin') });
    expect(kind.json().error.message).toMatch(/^invalid request: querystring\.kind: /);
  });
});

describe('device lifecycle', () => {
  it('suspends and reactivates a device (admin only, audited); a suspended device cannot authenticate', async () => {
    const { secret } = f.registry.addDevice({ ...NEW, id: 'd-sh-life' });
    const asReg = await f.dashboard.app.inject({ method: 'PATCH', url: '/api/devices/d-sh-life', headers: f.auth('reg-sh'), payload: { status: 'suspended' } });
    expect(asReg.statusCode).toBe(403);
    const res = await f.dashboard.app.inject({ method: 'PATCH', url: '/api/devices/d-sh-life', headers: f.auth('admin'), payload: { status: 'suspended' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 'd-sh-life', status: 'suspended' });
    expect(await f.registry.authenticateDevice('d-sh-life', secret)).toBeNull();
    expect(f.dashboard.audit.list({ limit: 10, action: 'device_status' }).items[0]).toMatchObject({ actor: 'admin', target: 'device:d-sh-life', detail: 'suspended' });
    await f.dashboard.app.inject({ method: 'PATCH', url: '/api/devices/d-sh-life', headers: f.auth('admin'), payload: { status: 'active' } });
    expect(await f.registry.authenticateDevice('d-sh-life', secret)).not.toBeNull();
    const unknown = await f.dashboard.app.inject({ method: 'PATCH', url: '/api/devices/nope-1', headers: f.auth('admin'), payload: { status: 'suspended' } });
    expect(unknown.statusCode).toBe(404);
    const bad = await f.dashboard.app.inject({ method: 'PATCH', url: '/api/devices/d-sh-life', headers: f.auth('admin'), payload: { status: 'gone' } });
    expect(bad.statusCode).toBe(400);
  });

  it('rotates a device secret: the new one works, the old one no longer does', async () => {
    const { secret: old } = f.registry.addDevice({ ...NEW, id: 'd-sh-rot' });
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/d-sh-rot/secret', headers: f.auth('admin') });
    expect(res.statusCode).toBe(200);
    const { secret } = res.json<{ secret: string }>();
    expect(secret).not.toBe(old);
    expect(await f.registry.authenticateDevice('d-sh-rot', secret)).not.toBeNull();
    expect(await f.registry.authenticateDevice('d-sh-rot', old)).toBeNull();
    expect((await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/d-sh-rot/secret', headers: f.auth('reg-sh') })).statusCode).toBe(403);
  });
});
