import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminPassword, loginToken, startPlatform, stopPlatform, type PlatformProcess } from '../integration/platform-process.js';
import { openEventStream } from '../lib/sse.js';
import { ARTIFACTS, SCREENSHOTS, SMALL, available, launchBrowser, login } from './harness.js';

const PASSWORD = 'inspector-password-1';
type Api = Awaited<ReturnType<typeof adminApi>>;
interface AlertItem { id: number; deviceId: string; region: string; status: string }

let p: PlatformProcess;
let browser: Browser;
let admin: Api;

/** Reads a user's SSE stream for `ms` and returns the alerts it carried. */
async function streamFor(token: string, ms: number): Promise<AlertItem[]> {
  const s = await openEventStream<{ alert?: AlertItem }>(`${p.base}/api/alerts/stream`, token);
  await new Promise((r) => setTimeout(r, ms));
  s.stop();
  await s.ended;
  return s.events.filter((e) => e.event === 'alert' && e.data.alert).map((e) => e.data.alert as AlertItem);
}


describe.skipIf(!available)('the dashboard in a browser, against the platform with its demo fleet', () => {
  beforeAll(async () => {
    // 20 000× replays a simulated day in about 4 s, so the fleet's faults open alerts within seconds.
    p = await startPlatform({ SIM_DEVICES: '320', SIM_SPEED: '20000', SIM_DAYS_BACK: '60', LOG_LEVEL: 'warn' });
    admin = await adminApi(p);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (p) await stopPlatform(p);
  });

  it('admin: logs in, sees a live alert arrive, acknowledges it, opens the instrument, switches language', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const password = adminPassword(p);
    await login(page, p.base, 'admin', password);
    expect(await page.textContent('#who')).toContain('admin');

    await page.goto(`${p.base}/app/#/alerts?status=`);
    await page.waitForSelector('table.alerts');
    // a row the page did not load but received on the live stream
    const fresh = await page.waitForSelector('table.alerts tbody tr.fresh:has(button[data-action=ack])', { timeout: 120_000 });
    const id = Number(await fresh.getAttribute('data-id'));
    const deviceId = (await fresh.getAttribute('data-device')) as string;
    expect(id).toBeGreaterThan(0);

    const row = page.locator(`table.alerts tbody tr[data-id="${id}"]`);
    await row.locator('button[data-action=ack]').click();
    await row.locator('textarea[name=comment]').fill('已通知供电公司现场核查');
    await row.locator('button[type=submit]').click();
    await page.waitForSelector(`table.alerts tbody tr[data-id="${id}"] .status-acknowledged, table.alerts tbody tr[data-id="${id}"] .status-resolved`);
    const after = await admin<AlertItem & { history: { status: string; actor: string | null; comment: string | null }[] }>(`/api/alerts/${id}`);
    expect(['acknowledged', 'resolved']).toContain(after.body.status);
    expect(after.body.history.at(-1)).toMatchObject({ actor: 'admin', comment: '已通知供电公司现场核查' });
    const audit = await admin<{ items: { action: string; target: string; actor: string }[] }>('/api/audit?limit=50');
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'alert_ack', target: `alert:${id}`, actor: 'admin' }), expect.objectContaining({ action: 'login', actor: 'admin' })]));

    await row.locator(`a[href="#/device/${encodeURIComponent(deviceId)}"]`).click();
    await page.waitForSelector('#est-chart');
    await page.locator('#est-chart canvas, #est-chart p').first().waitFor();
    await page.waitForSelector('#read-chart canvas', { timeout: 15_000 });
    expect(await page.textContent('h1')).toContain(deviceId);
    expect(await page.textContent('h1')).toContain('器具');
    await page.screenshot({ path: join(ARTIFACTS, 'instrument.png'), fullPage: true });

    await page.click('#lang');
    // the page's CSP forbids eval, so waits use selectors rather than waitForFunction
    await page.locator('h1', { hasText: 'Instrument' }).waitFor();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('#nav')).toContain('Alerts');

    await page.click('a[href="#/overview"]');
    await page.waitForSelector('#per-day canvas');
    expect(await page.textContent('h1')).toBe('Overview');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    await page.click('#lang');
    await page.locator('h1', { hasText: '概览' }).waitFor();
    await page.waitForSelector('#per-day canvas');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('an inspector of one region sees only that region', async () => {
    const created = await admin('/api/users', { method: 'POST', body: { username: 'insp-sh', password: PASSWORD, role: 'inspector', regions: ['SH'] } });
    expect(created.status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await ctx.newPage();
    await login(page, p.base, 'insp-sh', PASSWORD);
    const options = await Promise.all((await page.locator('.pagehead select option').all()).map((o) => o.getAttribute('value')));
    expect(options).toEqual(['', 'SH']);
    // the page's own session, used the way the page uses it
    const overview = (await page.evaluate(`(async () => {
      const s = JSON.parse(sessionStorage.getItem('driftwatch.session'));
      const r = await fetch('/api/overview', { headers: { authorization: 'Bearer ' + s.token } });
      return r.json();
    })()`)) as { regions: string[] };
    expect(overview.regions).toEqual(['SH']);

    // the precondition: the demo fleet has raised something in SH by now (on a loaded machine the
    // simulated days pass more slowly, so wait for it rather than assume it)
    for (let i = 0; i < 240; i++) {
      const sh = await admin<{ items: unknown[] }>('/api/alerts?region=SH&limit=1');
      expect(sh.status).toBe(200);
      if (sh.body.items.length > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.goto(`${p.base}/app/#/alerts?status=`);
    await page.waitForSelector('table.alerts tbody tr');
    const regions = [...new Set(await page.locator('table.alerts tbody tr td:nth-child(3)').allTextContents())];
    expect(regions).toEqual(['上海']);
    // an inspector may look but not acknowledge
    expect(await page.$('table.alerts button[data-action=ack]')).toBeNull();
    // the export holds the inspector's region only
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.pagehead button')]);
    const csv = readFileSync((await download.path()) as string, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('id,deviceId,region,kind,type,severity,status,openedAt,updatedAt,summary_zh,summary_en');
    expect(csv.length).toBeGreaterThan(1);
    expect(new Set(csv.slice(1).map((line) => line.split(',')[2]))).toEqual(new Set(['SH']));
    // a session that has ended server-side: the export sends the user back to the login form, as every other call does
    await page.evaluate(`(() => {
      const s = JSON.parse(sessionStorage.getItem('driftwatch.session'));
      sessionStorage.setItem('driftwatch.session', JSON.stringify({ ...s, token: 'expired' }));
    })()`);
    await page.click('.pagehead button');
    await page.waitForSelector('input[name=password]');
    await login(page, p.base, 'insp-sh', PASSWORD);

    const other = await admin<{ items: { id: string }[] }>('/api/devices?region=JS&limit=1');
    const jsDevice = other.body.items[0]?.id as string;
    await page.goto(`${p.base}/app/#/device/${encodeURIComponent(jsDevice)}`);
    await page.waitForSelector('p.error');
    expect(await page.textContent('p.error')).toContain('无权查看');
    await page.goto(`${p.base}/app/#/inspector`);
    await page.waitForSelector('.phone h1');
    await ctx.close();
  }, 180_000);

  it('a user changes their own password from the account page; a wrong current password keeps them signed in', async () => {
    const created = await admin('/api/users', { method: 'POST', body: { username: 'reg-zj', password: PASSWORD, role: 'regulator', regions: ['ZJ'] } });
    expect(created.status).toBe(201);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await login(page, p.base, 'reg-zj', PASSWORD);
    await page.click('#who');
    await page.waitForSelector('form.account');
    expect(await page.textContent('dl.facts')).toContain('浙江');
    const fill = async (current: string, next: string, again: string) => {
      await page.fill('input[name=current]', current);
      await page.fill('input[name=password]', next);
      await page.fill('input[name=repeat]', again);
      await page.click('form.account button[type=submit]');
    };
    await fill(PASSWORD, 'a new passphrase 1', 'a new passphrase 2');
    expect(await page.textContent('form.account p.error')).toBe('两次输入的新密码不一致');
    await fill('not the password', 'a new passphrase 1', 'a new passphrase 1');
    await page.locator('form.account p.error', { hasText: '当前密码错误' }).waitFor();
    // still signed in: the header is there and the page did not fall back to the login form
    expect(await page.isVisible('#top')).toBe(true);
    await fill(PASSWORD, 'a new passphrase 1', 'a new passphrase 1');
    await page.waitForSelector('form.login');
    await login(page, p.base, 'reg-zj', 'a new passphrase 1');
    expect((await loginToken(p, 'reg-zj', PASSWORD).catch(() => null)) ?? null).toBeNull();
    await ctx.close();
  }, 60_000);

  it('a regulator of SH gets 404 for a JS instrument and nothing of JS on the live stream', async () => {
    expect((await admin('/api/users', { method: 'POST', body: { username: 'reg-sh', password: PASSWORD, role: 'regulator', regions: ['SH'] } })).status).toBe(201);
    const reg = await loginToken(p, 'reg-sh', PASSWORD);
    const adminToken = await loginToken(p, 'admin', adminPassword(p));
    const get = (path: string) => fetch(`${p.base}${path}`, { headers: { authorization: `Bearer ${reg}` } });

    const js = (await admin<{ items: { id: string }[] }>('/api/devices?region=JS&limit=1')).body.items[0]?.id as string;
    for (const path of [`/api/devices/${js}`, `/api/devices/${js}/state`, `/api/devices/${js}/estimates`, `/api/devices/${js}/grades`, `/api/devices/${js}/readings`]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const jsAlert = (await admin<{ items: AlertItem[] }>('/api/alerts?region=JS&limit=1')).body.items[0];
    if (jsAlert) {
      expect((await get(`/api/alerts/${jsAlert.id}`)).status).toBe(404);
      const ack = await fetch(`${p.base}/api/alerts/${jsAlert.id}/ack`, { method: 'POST', headers: { authorization: `Bearer ${reg}`, 'content-type': 'application/json' }, body: JSON.stringify({ comment: 'not mine' }) });
      expect(ack.status).toBe(404);
    }
    const list = (await (await get('/api/alerts?limit=200&region=JS')).json()) as { items: AlertItem[] };
    expect(list.items).toEqual([]);

    // Both streams over the same window, while a JS meter reports a magnet on it (a tamper alert
    // opens at once): the admin's stream must carry it, the SH regulator's must not.
    const { body: dev } = await admin<{ id: string; secret: string }>('/api/devices', {
      method: 'POST',
      body: { id: 'JS-T999-M001', kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'JS', site: 'JS-T999', role: 'customer', installDate: '2024-01-01' },
    });
    const { body: stats } = await admin<{ clock: { now: string } }>('/api/stats');
    const streams = Promise.all([streamFor(reg, 8_000), streamFor(adminToken, 8_000)]);
    await new Promise((r) => setTimeout(r, 1000));
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0 });
    const ts = Date.parse(stats.clock.now);
    await device.publishAsync(`devices/${dev.id}/readings`, JSON.stringify({ ts, seq: 1, energyWh: 1000, powerW: 300, events: ['magnetic'] }), { qos: 1 });
    await device.endAsync();
    const [mine, all] = await streams;
    expect(all.some((a) => a.deviceId === dev.id && a.region === 'JS')).toBe(true);
    expect(all.some((a) => a.region !== 'SH')).toBe(true);
    expect(mine.filter((a) => a.region !== 'SH')).toEqual([]);
  }, 60_000);

  it('takes the README screenshots once the fleet has replacement orders', async () => {
    // an order on inaccuracy has an estimate series to draw (one on tamper evidence may not)
    let order: { deviceId: string } | undefined;
    for (const deadline = Date.now() + 90_000; !order && Date.now() < deadline; ) {
      order = (await admin<{ items: { deviceId: string; basis: string }[] }>('/api/orders?status=open&limit=100')).body.items.find((o) => o.basis === 'inaccuracy');
      if (!order) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(order).toBeDefined();
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await login(page, p.base, 'admin', adminPassword(p));
    // the toast of a live alert would cover part of each picture
    await page.addStyleTag({ content: '#toast { display: none !important; }' });
    await page.waitForSelector('#per-day canvas');
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.jpg'), ...SMALL });
    await page.goto(`${p.base}/app/#/alerts`);
    await page.waitForSelector('table.alerts tbody tr');
    await page.screenshot({ path: join(SCREENSHOTS, 'alerts.jpg'), ...SMALL });
    await page.goto(`${p.base}/app/#/device/${encodeURIComponent((order as { deviceId: string }).deviceId)}`);
    await page.waitForSelector('#est-chart canvas');
    await page.screenshot({ path: join(SCREENSHOTS, 'instrument.jpg'), fullPage: true, ...SMALL });
    await page.click('#lang');
    await page.locator('h1', { hasText: 'Instrument' }).waitFor();
    await page.waitForSelector('#est-chart canvas');
    await page.screenshot({ path: join(SCREENSHOTS, 'instrument-en.jpg'), ...SMALL });
    await page.close();
  }, 120_000);

  it('serves /docs and Prometheus /metrics', async () => {
    const docs = (await (await fetch(`${p.base}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/api/alerts', '/api/alerts/stream', '/api/overview', '/api/devices/{id}/state']));
    const m = await fetch(`${p.base}/metrics`);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await m.text();
    expect(text).toMatch(/^driftwatch_ingest_readings_total\{outcome="accepted"\} [1-9]/m);
    expect(text).toMatch(/^driftwatch_mqtt_connections [1-9]/m);
    expect(text).toContain('driftwatch_http_request_duration_seconds_bucket');
  });
});
