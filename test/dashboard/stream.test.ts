import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStream, type EventStream } from '../lib/sse.js';
import { makeAnalyticsFixture, T0, type AnalyticsFixture } from './analytics-fixture.js';

let f: AnalyticsFixture;
let base: string;
beforeAll(async () => {
  f = await makeAnalyticsFixture();
  const { port } = await f.dashboard.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => f.close());

type Seen = EventStream<{ change?: string; alert?: { deviceId: string; region: string; status: string } }>;

const open = (token: string, query = ''): Promise<Seen> => openEventStream(`${base}/api/alerts/stream${query}`, token);

const until = async (cond: () => boolean, ms = 2000) => {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('GET /api/alerts/stream', () => {
  it('sends each user the alerts of their regions only, as they open and change', async () => {
    const reg = await open(f.tokens['reg-sh']);
    const admin = await open(f.tokens.admin);
    const jsOnly = await open(f.tokens.admin, '?region=JS');
    await until(() => reg.events.length > 0 && admin.events.length > 0 && jsOnly.events.length > 0);
    expect(reg.events[0]).toEqual({ event: 'hello', data: { regions: ['SH'] } });

    const shId = f.raise('m-sh-1', 'SH', 'out_of_tolerance', T0);
    f.raise('m-js-1', 'JS', 'out_of_tolerance', T0);
    f.analytics.alerts.acknowledge(shId, 'admin', 'seen', T0 + 1);
    await until(() => admin.events.length >= 4);
    await new Promise((r) => setTimeout(r, 100));

    const alerts = (s: Seen) => s.events.filter((e) => e.event === 'alert').map((e) => [e.data.change, e.data.alert?.deviceId, e.data.alert?.status]);
    expect(alerts(admin)).toEqual([
      ['opened', 'm-sh-1', 'open'],
      ['opened', 'm-js-1', 'open'],
      ['updated', 'm-sh-1', 'acknowledged'],
    ]);
    expect(alerts(reg)).toEqual([
      ['opened', 'm-sh-1', 'open'],
      ['updated', 'm-sh-1', 'acknowledged'],
    ]);
    expect(alerts(jsOnly)).toEqual([['opened', 'm-js-1', 'open']]);
    for (const s of [reg, admin, jsOnly]) s.stop();
  });

  it('caps the streams one user may hold, without taking any from the others', async () => {
    const mine: Seen[] = [];
    for (let i = 0; i < 8; i++) mine.push(await open(f.tokens['insp-js']));
    const ninth = await fetch(`${base}/api/alerts/stream`, { headers: { authorization: `Bearer ${f.tokens['insp-js']}` } });
    expect(ninth.status).toBe(503);
    expect(((await ninth.json()) as { error: { code: string } }).error.code).toBe('DSH_STREAM_LIMIT');
    const other = await open(f.tokens['reg-sh']);
    await until(() => other.events.length > 0);
    expect(other.events[0]?.event).toBe('hello');
    for (const s of [...mine, other]) s.stop();
  });

  it('ends the stream when its session is logged out', async () => {
    const s = await f.registry.login('insp-js', 'correct horse battery');
    if (!s) throw new Error('login failed');
    const seen = await open(s.token);
    f.registry.logout(s.token);
    // the heartbeat (50 ms here) re-checks the session
    await Promise.race([seen.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('stream still open')), 2000))]);
  });

  it('refuses a stream without a session', async () => {
    const res = await fetch(`${base}/api/alerts/stream`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
