import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downsampleEstimates } from '../../dashboard/downsample.js';
import { toCsv } from '../../dashboard/csv.js';
import { makeAnalyticsFixture, T0, DAY, type AnalyticsFixture } from './analytics-fixture.js';

let f: AnalyticsFixture;
beforeAll(async () => {
  f = await makeAnalyticsFixture();
  f.raise('m-sh-1', 'SH', 'out_of_tolerance', T0 - DAY);
  f.raise('m-sh-2', 'SH', 'silent', T0 - DAY);
  f.raise('m-js-1', 'JS', 'drift', T0);
  const order = (deviceId: string, region: 'SH' | 'JS') => f.analytics.orders.issue({ deviceId, region, kind: 'meter', site: 'a', issuedAt: T0, basis: 'inaccuracy', reasons: [], evidence: {} })!;
  order('m-sh-1', 'SH');
  order('m-js-1', 'JS');
  f.analytics.orders.close(order('m-sh-2', 'SH').id, 'done');
});
afterAll(async () => f.close());

const get = (url: string, user: 'admin' | 'reg-sh' | 'insp-js') => f.dashboard.app.inject({ method: 'GET', url, headers: f.auth(user) });

describe('GET /api/overview', () => {
  it('counts instruments by kind and grade, unresolved alerts and alerts per day, in the user’s scope', async () => {
    const all = (await get('/api/overview?days=3', 'admin')).json<{ regions: unknown; instruments: Record<string, Record<string, number>>; alerts: { bySeverity: Record<string, number>; byStatus: Record<string, number> }; orders: { open: number }; alertsPerDay: { day: number; count: number }[] }>();
    expect(all.regions).toBe('all');
    // nothing has been analysed in this fixture, so every instrument is "none"
    expect(all.instruments['meter']).toEqual({ A: 0, B: 0, C: 0, D: 0, none: 3 });
    expect(all.instruments['scale']).toEqual({ A: 0, B: 0, C: 0, D: 0, none: 1 });
    expect(all.alerts.bySeverity).toEqual({ critical: 1, major: 0, minor: 1, warning: 1 });
    expect(all.alerts.byStatus).toEqual({ open: 3, acknowledged: 0, latched: 0 });
    expect(all.orders.open).toBe(2);
    expect(all.alertsPerDay).toEqual([
      { day: T0 - 2 * DAY, count: 0 },
      { day: T0 - DAY, count: 2 },
      { day: T0, count: 1 },
    ]);
    const sh = (await get('/api/overview?days=3', 'reg-sh')).json<typeof all>();
    expect(sh.regions).toEqual(['SH']);
    expect(sh.instruments['meter']?.none).toBe(2);
    expect(sh.alerts.bySeverity).toEqual({ critical: 1, major: 0, minor: 0, warning: 1 });
    expect(sh.orders.open).toBe(1);
    expect((await get('/api/overview?region=JS', 'reg-sh')).json<typeof all>().instruments['meter']?.none).toBe(0);
  });
});

describe('instrument routes', () => {
  it('serves the estimate series downsampled, and 404 outside the region', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ ts: T0 - (1000 - i) * 3600_000, ratio: i / 1000, sd: 0.1, error: i / 50_000, pOut: i === 500 ? 0.9 : 0.01 }));
    const out = downsampleEstimates(rows, 100);
    expect(out).toHaveLength(100);
    expect(out[0]?.ratio).toBeCloseTo(0.0045, 6);
    expect(out[0]?.sd).toBeCloseTo(0.1, 9);
    expect(Math.max(...out.map((p) => p.pOut))).toBe(0.9);
    expect(downsampleEstimates(rows.slice(0, 5), 100)).toHaveLength(5);

    const state = await get('/api/devices/m-sh-1/state', 'reg-sh');
    expect(state.statusCode).toBe(200);
    expect(state.json()).toMatchObject({ device: { id: 'm-sh-1' }, analysed: false, alerts: [expect.objectContaining({ type: 'out_of_tolerance' })] });
    for (const path of ['state', 'estimates', 'grades']) expect((await get(`/api/devices/m-js-1/${path}`, 'reg-sh')).statusCode).toBe(404);
    expect((await get('/api/devices/m-sh-1/estimates?points=50', 'reg-sh')).json()).toMatchObject({ deviceId: 'm-sh-1', items: [] });
  });
});

describe('GET /metrics', () => {
  it('serves Prometheus text built from the snapshot at scrape time, counters advancing by the change', async () => {
    await get('/api/alerts', 'admin');
    const first = await f.dashboard.app.inject({ method: 'GET', url: '/metrics' });
    expect(first.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(first.body).toContain('driftwatch_ingest_readings_total{outcome="accepted"} 9');
    expect(first.body).toContain('driftwatch_ingest_quarantined_total{reason="ING_SCHEMA_INVALID"} 2');
    expect(first.body).toContain('driftwatch_backlog_readings{stage="ingest"} 3');
    expect(first.body).toContain('driftwatch_mqtt_connections 5');
    expect(first.body).toContain('driftwatch_analytics_lag_seconds 1.5');
    expect(first.body).toMatch(/driftwatch_http_request_duration_seconds_count\{method="GET",route="\/api\/alerts",status="200"\} 1/);
    f.snapshot.accepted = 15;
    const second = await f.dashboard.app.inject({ method: 'GET', url: '/metrics' });
    expect(second.body).toContain('driftwatch_ingest_readings_total{outcome="accepted"} 15');
  });
});

describe('users and audit', () => {
  it('lets only an admin create users, who can then log in; both are audited', async () => {
    const body = { username: 'insp-sh', password: 'long enough pw', role: 'inspector', regions: ['SH'] };
    expect((await f.dashboard.app.inject({ method: 'POST', url: '/api/users', headers: f.auth('reg-sh'), payload: body })).statusCode).toBe(403);
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/users', headers: f.auth('admin'), payload: body });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ username: 'insp-sh', role: 'inspector', regions: ['SH'], displayName: null });
    const login = await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'insp-sh', password: 'long enough pw' } });
    expect(login.statusCode).toBe(200);
    await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'insp-sh', password: 'wrong password' } });
    const audit = (await get('/api/audit?limit=3', 'admin')).json<{ items: { actor: string; action: string; target: string }[] }>();
    expect(audit.items.map((e) => [e.actor, e.action, e.target])).toEqual([
      ['insp-sh', 'login_failed', 'session'],
      ['insp-sh', 'login', 'session'],
      ['admin', 'user_add', 'user:insp-sh'],
    ]);
  });
});

describe('the web page', () => {
  it('is served from this process with its chart library, and / leads to it', async () => {
    const root = await f.dashboard.app.inject({ method: 'GET', url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/app/');
    const page = await f.dashboard.app.inject({ method: 'GET', url: '/app/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="/app/js/main.js">');
    expect(page.body).not.toMatch(/https?:\/\//);
    const uplot = await f.dashboard.app.inject({ method: 'GET', url: '/app/vendor/uplot/uPlot.esm.js' });
    expect(uplot.statusCode).toBe(200);
    expect(uplot.headers['content-type']).toMatch(/javascript/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });

  it('has every string in both languages', () => {
    const src = readFileSync(join(import.meta.dirname, '../../dashboard/web/js/i18n.js'), 'utf8');
    const keys = (name: string) => [...(new RegExp(`const ${name} = \\{([\\s\\S]*?)\\n\\};`).exec(src)?.[1] ?? '').matchAll(/^\s+'([\w.]+)':/gm)].map((m) => m[1]);
    const zh = keys('zh');
    expect(zh.length).toBeGreaterThan(100);
    expect(keys('en')).toEqual(zh);
  });

  it('writes CSV that spreadsheets cannot execute', () => {
    expect(toCsv([{ name: 'a', value: (r: string) => r }], ['=SUM(A1)', 'x,"y"', '-3'])).toBe(`a\r\n'=SUM(A1)\r\n"x,""y"""\r\n-3\r\n`);
    // numbers stay numbers; a formula that merely starts like one does not
    expect(toCsv([{ name: 'a', value: (r: string) => r }], ['-2.5', '-1e-3', "-2+3+cmd|' /C calc'!A0", '-1+1'])).toBe(`a\r\n-2.5\r\n-1e-3\r\n'-2+3+cmd|' /C calc'!A0\r\n'-1+1\r\n`);
  });
});
