import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAnalyticsFixture, T0, DAY, type AnalyticsFixture } from './analytics-fixture.js';

let f: AnalyticsFixture;
let sh: number;
let js: number;
beforeAll(async () => {
  f = await makeAnalyticsFixture();
  sh = f.raise('m-sh-1', 'SH', 'out_of_tolerance', T0 - DAY);
  f.raise('m-sh-2', 'SH', 'drift', T0 - 2 * DAY);
  js = f.raise('m-js-1', 'JS', 'out_of_tolerance', T0 - DAY);
});
afterAll(async () => f.close());

const get = (url: string, user: 'admin' | 'reg-sh' | 'insp-js') => f.dashboard.app.inject({ method: 'GET', url, headers: f.auth(user) });
const post = (url: string, user: 'admin' | 'reg-sh' | 'insp-js', payload: unknown) => f.dashboard.app.inject({ method: 'POST', url, headers: f.auth(user), payload: payload as object });

describe('GET /api/alerts', () => {
  it('lists only the regions a user may see, and a region outside them as empty', async () => {
    const mine = (await get('/api/alerts', 'reg-sh')).json<{ items: { id: number; region: string }[] }>();
    expect(mine.items.map((a) => a.region)).toEqual(['SH', 'SH']);
    expect((await get('/api/alerts?region=JS', 'reg-sh')).json()).toEqual({ items: [], nextCursor: null });
    const all = (await get('/api/alerts', 'admin')).json<{ items: { id: number }[] }>();
    expect(all.items.map((a) => a.id).sort()).toEqual([sh, js, sh + 1].sort());
  });

  it('filters and pages by cursor, newest first', async () => {
    const first = (await get('/api/alerts?limit=1', 'admin')).json<{ items: { id: number }[]; nextCursor: number }>();
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toBe(first.items[0]?.id);
    const second = (await get(`/api/alerts?limit=1&cursor=${first.nextCursor}`, 'admin')).json<{ items: { id: number }[] }>();
    expect(second.items[0]?.id).toBeLessThan(first.items[0]?.id as number);
    const drift = (await get('/api/alerts?type=drift', 'admin')).json<{ items: { type: string; severity: string; summary: { zh: string } }[] }>();
    expect(drift.items).toEqual([expect.objectContaining({ type: 'drift', severity: 'minor', summary: expect.objectContaining({ zh: '测试 drift' }) })]);
    expect((await get('/api/alerts?severity=critical&region=SH', 'admin')).json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await get('/api/alerts?status=bogus', 'admin')).statusCode).toBe(400);
  });

  it('exports CSV with a header row', async () => {
    const res = await get('/api/alerts?format=csv&region=SH', 'admin');
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const lines = res.body.trim().split('\r\n');
    expect(lines[0]).toBe('id,deviceId,region,kind,type,severity,status,openedAt,updatedAt,summary_zh,summary_en');
    expect(lines).toHaveLength(3);
  });

  it('hides another region’s alert like a missing one, as a problem document', async () => {
    const res = await get(`/api/alerts/${js}`, 'reg-sh');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ type: 'urn:driftwatch:error:DSH_NOT_FOUND', status: 404, code: 'DSH_NOT_FOUND', title: 'not found' });
    const mine = await get(`/api/alerts/${sh}`, 'reg-sh');
    expect(mine.json()).toMatchObject({ id: sh, history: [{ status: 'open', actor: null }] });
  });
});

describe('acknowledge and resolve', () => {
  it('needs a regulator or admin of the region and a comment, and is audited', async () => {
    expect((await post(`/api/alerts/${sh}/ack`, 'insp-js', { comment: 'x' })).statusCode).toBe(403);
    expect((await post(`/api/alerts/${js}/ack`, 'reg-sh', { comment: 'not mine' })).statusCode).toBe(404);
    expect((await post(`/api/alerts/${sh}/ack`, 'reg-sh', { comment: '   ' })).statusCode).toBe(400);
    f.clock.set(T0 + 1000);
    const ack = await post(`/api/alerts/${sh}/ack`, 'reg-sh', { comment: '已安排现场核查' });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ id: sh, status: 'acknowledged' });
    const res = await post(`/api/alerts/${sh}/resolve`, 'admin', { comment: 'replaced' });
    expect(res.json()).toMatchObject({ status: 'resolved' });
    const detail = (await get(`/api/alerts/${sh}`, 'admin')).json<{ history: { status: string; actor: string | null; comment: string | null; at: number }[] }>();
    expect(detail.history.slice(1)).toEqual([
      { status: 'acknowledged', actor: 'reg-sh', comment: '已安排现场核查', at: T0 + 1000 },
      { status: 'resolved', actor: 'admin', comment: 'replaced', at: T0 + 1000 },
    ]);
    const audit = f.dashboard.audit.list({ limit: 10 }).items;
    expect(audit.slice(0, 2).map((e) => [e.actor, e.action, e.target, e.detail])).toEqual([
      ['admin', 'alert_resolve', `alert:${sh}`, 'replaced'],
      ['reg-sh', 'alert_ack', `alert:${sh}`, '已安排现场核查'],
    ]);
    expect((await get('/api/audit', 'reg-sh')).statusCode).toBe(403);
  });
});
