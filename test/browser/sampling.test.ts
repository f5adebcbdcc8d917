import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminPassword, startPlatform, stopPlatform, type PlatformProcess } from '../integration/platform-process.js';
import { ARTIFACTS, SCREENSHOTS, SMALL, available, launchBrowser, login } from './harness.js';


const PASSWORD = 'inspector-password-2';
type Api = Awaited<ReturnType<typeof adminApi>>;
interface Lot { id: string; kind: string; region: string; size: number; status: string; plan: { sampleSize: number; accept: number; reject: number } | null; lists: { id: string; purpose: string }[] }
interface List { id: string; items: { deviceId: string; site: string }[]; mpe: number | null }

let p: PlatformProcess;
let browser: Browser;
let admin: Api;

describe.skipIf(!available)('lots and sampling in a browser, against the platform', () => {
  beforeAll(async () => {
    // only the registry's instruments are needed: a slow replay keeps the machine free
    p = await startPlatform({ SIM_DEVICES: '320', SIM_SPEED: '200', SIM_DAYS_BACK: '10', LOG_LEVEL: 'warn' });
    admin = await adminApi(p);
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (p) await stopPlatform(p);
  });

  it('forms lots, plans, draws a list for a new inspector who records a result on a phone; the admin decides per Ac/Re and signs', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addInitScript('localStorage.setItem("driftwatch.lang", "zh")');
    const password = adminPassword(p);
    await login(page, p.base, 'admin', password);
    await page.addStyleTag({ content: '#toast { display: none !important; }' });

    // form the lots of SH through the page
    await page.click('a[href="#/sampling"]');
    await page.locator('.pagehead select[name=region]').selectOption('SH');
    await page.click('#form-lots');
    await page.waitForSelector('table.lots tbody tr');
    const lots = (await admin<{ items: Lot[] }>('/api/lots')).body.items;
    expect(lots.length).toBeGreaterThan(0);
    expect(lots.every((l) => l.region === 'SH')).toBe(true);
    expect(await page.locator('table.lots tbody tr').count()).toBe(lots.length);
    // the largest meter lot: meters have an in-service MPE by class
    const lot = lots.filter((l) => l.kind === 'meter').sort((a, b) => b.size - a.size)[0] as Lot;
    expect(lot.size).toBeGreaterThan(1);

    await page.click(`table.lots a[href="#/sampling/lot/${encodeURIComponent(lot.id)}"]`);
    await page.waitForSelector('form.plan');
    expect(await page.textContent('h1')).toContain(lot.id);
    await page.locator('form.plan select[name=scheme]').selectOption('iso2859-1');
    await page.locator('form.plan select[name=aql]').selectOption('2.5');
    await page.locator('form.plan select[name=level]').selectOption('II');
    await page.click('form.plan button[type=submit]');
    await page.waitForSelector('#plan-n');
    await page.waitForSelector('#oc-chart canvas');
    const planned = (await admin<Lot>(`/api/lots/${lot.id}`)).body;
    const plan = planned.plan as NonNullable<Lot['plan']>;
    expect(plan.sampleSize).toBeGreaterThan(0);
    expect(await page.textContent('#plan-n')).toBe(String(plan.sampleSize));
    expect(await page.textContent('#plan-ac')).toBe(String(plan.accept));
    // no inspection stated: the product's (empty) history puts it on normal inspection by the switching rules
    expect(await page.textContent('#plan-inspection')).toBe('正常 · 由转移规则确定（GB/T 2828.1 第 9 章）');
    const oc = (await admin<{ points: { p: number; pAccept: number }[] }>(`/api/lots/${lot.id}/oc`)).body.points;
    expect(oc[0]).toEqual({ p: 0, pAccept: 1 });
    // an OC curve never rises with worse lots
    for (let i = 1; i < oc.length; i++) expect(oc[i]!.pAccept).toBeLessThanOrEqual(oc[i - 1]!.pAccept + 1e-12);

    // a new inspector of the lot's region gets the lists
    expect((await admin('/api/users', { method: 'POST', body: { username: 'insp-lot', password: PASSWORD, role: 'inspector', regions: ['SH'] } })).status).toBe(201);
    await page.fill('form.lists input[name=inspector]', 'insp-lot');
    await page.fill('form.lists input[name=seed]', '20241127');
    await page.click('form.lists button[type=submit]');
    await page.waitForSelector('.samplelist[data-purpose=random]');
    const withLists = (await admin<Lot>(`/api/lots/${lot.id}`)).body;
    const randomId = withLists.lists.find((l) => l.purpose === 'random')?.id as string;
    expect(randomId).toBe(`${lot.id}-r20241127`);
    const list = (await admin<List>(`/api/sampling-lists/${randomId}`)).body;
    expect(list.items).toHaveLength(plan.sampleSize);
    expect(list.mpe).toBeGreaterThan(0);
    const first = list.items[0] as List['items'][number];

    // the inspector, on a phone
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const ip = await phone.newPage();
    ip.on('pageerror', (e) => errors.push(String(e)));
    await ip.addInitScript('localStorage.setItem("driftwatch.lang", "zh")');
    await login(ip, p.base, 'insp-lot', PASSWORD);
    await ip.addStyleTag({ content: '#toast { display: none !important; }' });
    expect(await ip.locator('#nav a[href="#/sampling"]').count()).toBe(0);
    await ip.click('a[href="#/inspector"]');
    await ip.waitForSelector(`a.listcard[data-id="${randomId}"]`);
    // sites in route order, as the list orders them
    const sites = [...new Set(list.items.map((i) => i.site))];
    expect(await ip.locator(`a.listcard[data-id="${randomId}"] ol.sites li`).allTextContents()).toEqual(sites.map((s) => `${s} (${list.items.filter((i) => i.site === s).length})`));
    await ip.click(`a.listcard[data-id="${randomId}"]`);
    const item = ip.locator(`li[data-device="${first.deviceId}"]`);
    await item.locator('button.record').click();
    await item.locator('input[name=reference]').fill('100');
    await item.locator('input[name=indicated]').fill('100.4');
    expect(await item.locator('.error-out').textContent()).toBe('+0.400%');
    expect(await item.locator('.verdict-out .badge.pass').count()).toBe(1);
    await item.locator('button.add-point').click();
    await item.locator('input[name=reference]').nth(1).fill('10');
    await item.locator('input[name=indicated]').nth(1).fill('9.98');
    expect(await item.locator('.error-out').textContent()).toBe('+0.400%');
    await item.locator('input[name=certificate]').fill('SH-2024-0001');
    await item.locator('input[name=seal]').fill('QS-778812');
    await item.locator('input[name=evidence]').fill('photo/IMG_2041.jpg');
    await ip.screenshot({ path: join(ARTIFACTS, 'inspector-form.png'), fullPage: false });
    await ip.evaluate('window.scrollTo(0, 0)');
    await ip.screenshot({ path: join(ARTIFACTS, 'inspector.png'), fullPage: false });
    await ip.screenshot({ path: join(SCREENSHOTS, 'inspector.jpg'), ...SMALL });
    await item.locator('form.result button[type=submit]').click();
    await item.locator('.head .badge.pass').waitFor();
    expect(await item.textContent()).toContain('SH-2024-0001');
    const [download] = await Promise.all([ip.waitForEvent('download'), ip.click('.phone button.csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('order,site,deviceId,model,grade,list,purpose,seed,method');
    expect(csv).toContain(first.deviceId);
    await ip.screenshot({ path: join(ARTIFACTS, 'inspector-saved.png'), fullPage: true });

    // the rest of the sample through the API, as the inspector: exactly Ac failures, so the lot is accepted
    const token = ((await (await fetch(`${p.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'insp-lot', password: PASSWORD }) })).json()) as { token: string }).token;
    const rest = list.items.slice(1);
    for (const [k, it2] of rest.entries()) {
      const fail = k < plan.accept;
      const r = await fetch(`${p.base}/api/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ listId: randomId, deviceId: it2.deviceId, date: '2024-11-27', testPoints: [{ reference: 100, indicated: fail ? 106 : 100.2 }], certificate: `SH-2024-${k + 2}`, seal: `QS-${k}` }),
      });
      expect(r.status).toBe(201);
    }
    await phone.close();

    // the admin sees the results and decides
    await page.reload();
    await page.addStyleTag({ content: '#toast { display: none !important; }' });
    await page.waitForSelector(`.samplelist[data-purpose=random] table.results tr[data-device="${first.deviceId}"]`);
    expect(await page.locator('.samplelist[data-purpose=random] table.results tbody tr').count()).toBe(plan.sampleSize);
    expect(await page.textContent('#failures')).toBe(String(plan.accept));
    await page.click('#decide');
    await page.waitForSelector('#verdict.accept');
    page.once('dialog', (d) => void d.accept());
    await page.click('#sign');
    await page.locator('#signed', { hasText: '已签署' }).waitFor();
    await page.waitForSelector('table.audit tr[data-action="decision.signed"]');
    expect(await page.locator('form.plan').count()).toBe(0);
    const decided = (await admin<Lot & { decision: { outcome: string; signedBy: string; basis: { accept: number; reject: number } } }>(`/api/lots/${lot.id}`)).body;
    expect(decided.decision).toMatchObject({ outcome: 'accept', signedBy: 'admin', basis: { accept: plan.accept, reject: plan.reject } });
    expect(decided.status).toBe('accepted');
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'lot.png'), fullPage: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'lot.jpg'), fullPage: true, ...SMALL });

    // the instrument page lists the recorded verification
    await page.goto(`${p.base}/app/#/device/${encodeURIComponent(first.deviceId)}`);
    await page.waitForSelector('table.verifications');
    expect(await page.textContent('table.verifications')).toContain('SH-2024-0001');

    await page.goto(`${p.base}/app/#/sampling`);
    await page.waitForSelector(`table.lots tr[data-id="${lot.id}"] .lot-accepted`);
    await page.screenshot({ path: join(ARTIFACTS, 'lots.png'), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
