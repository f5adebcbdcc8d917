import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { buildApp } from '../../dashboard/app.js';
import { niceBucket } from '../../dashboard/bucket.js';
import { makeFixture, PASSWORD, type Fixture } from './fixture.js';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
});
afterAll(async () => f.close());

describe('deny by default', () => {
  it('refuses to register a route that declares no roles', async () => {
    const app = buildApp({
      registry: f.registry,
      store: f.store,
      quarantine: { list: () => ({ items: [], nextCursor: null }) },
      stats: () => ({}),
      clock: new ManualClock(0),
      logger: false,
      docs: false,
    });
    expect(() => app.get('/api/open-by-mistake', async () => ({ secret: true }))).toThrow(/declares neither config\.roles nor config\.public/);
    expect(() => app.get('/api/also-open', { config: { roles: [] } }, async () => ({}))).toThrow(/declares neither/);
    await app.close();
  });
});

describe('over real HTTP', () => {
  it('serves health, login and a scoped list on a port of its own, with security headers and no CORS', async () => {
    const { port } = await f.dashboard.listen(0, '127.0.0.1');
    expect(port).toBeGreaterThan(0);
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/api/health`, { headers: { origin: 'http://evil.example' } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', version: '9.9.9-test' });
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
    expect(health.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(health.headers.get('access-control-allow-origin')).toBeNull();

    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'reg-sh', password: PASSWORD }) });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const list = await fetch(`${base}/api/devices`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await list.json()) as { items: { region: string }[] };
    expect(body.items.length).toBeGreaterThan(0);
    expect(body.items.every((d) => d.region === 'SH')).toBe(true);

    const docs = await fetch(`${base}/docs/json`);
    expect(docs.status).toBe(200);
    const doc = (await docs.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/devices', '/api/devices/{id}/readings', '/api/quarantine']));
    const ui = await fetch(`${base}/docs`, { redirect: 'follow' });
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');

    await f.dashboard.close();
    await f.dashboard.close(); // idempotent
    await expect(fetch(`${base}/api/health`)).rejects.toThrow();
  });
});

describe('niceBucket', () => {
  it('picks the narrowest readable width that fits, whole weeks beyond the table', () => {
    expect(niceBucket(600 * 60_000, 100)).toBe(10 * 60_000);
    expect(niceBucket(1_000, 1_000)).toBe(1_000);
    expect(niceBucket(7 * 86_400_000, 1_000)).toBe(15 * 60_000);
    expect(niceBucket(3650 * 86_400_000, 100)).toBe(6 * 7 * 86_400_000);
  });
});
