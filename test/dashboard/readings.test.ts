import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Accepted } from '../../ingest/readings.js';
import { makeFixture, T0, type Fixture } from './fixture.js';

const MIN = 60_000;
const H = 60 * MIN;
/** readings of m-sh-1: one a minute for the 10 hours before T0, energy rising 10 Wh a minute */
const N = 600;
const START = T0 - N * MIN;

interface Raw {
  ts: number;
  seq: number;
  receivedAt: number;
  energyWh: number;
  powerW: number;
  events: string[];
}
interface Bucket {
  ts: number;
  count: number;
  mean: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture();
  const batch: Accepted[] = [];
  for (let i = 0; i < N; i++) {
    const ts = START + i * MIN;
    batch.push({ deviceId: 'm-sh-1', kind: 'meter', region: 'SH', site: 'area-1', ts, seq: i + 1, receivedAt: ts + 150, fields: { energyWh: 1000 + 10 * i, powerW: 600 }, events: i === 5 ? ['cover_open'] : [] });
  }
  // One reading eight days back: outside the default seven-day window.
  batch.push({ deviceId: 'm-sh-1', kind: 'meter', region: 'SH', site: 'area-1', ts: T0 - 8 * 24 * H, seq: 0, receivedAt: T0 - 8 * 24 * H, fields: { energyWh: 1, powerW: 1 }, events: [] });
  await f.store.append(batch);
});
afterAll(async () => f.close());

const get = (url: string, user: 'admin' | 'reg-sh' | 'insp-js' = 'reg-sh') => f.dashboard.app.inject({ method: 'GET', url, headers: f.auth(user) });

describe('GET /api/devices/:id/readings', () => {
  it('returns raw readings with fields flattened, in time order', async () => {
    const res = await get(`/api/devices/m-sh-1/readings?from=${START}&to=${START + 10 * MIN}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ downsampled: boolean; items: Raw[]; from: number; to: number }>();
    expect(body.downsampled).toBe(false);
    expect(body.items).toHaveLength(10);
    expect(body.items[0]).toEqual({ ts: START, seq: 1, receivedAt: START + 150, energyWh: 1000, powerW: 600, events: [] });
    expect(body.items[5]?.events).toEqual(['cover_open']);
    expect(body.items.map((r) => r.ts)).toEqual([...body.items.map((r) => r.ts)].sort((a, b) => a - b));
  });

  it('defaults to the seven days before the clock’s now', async () => {
    const res = await get('/api/devices/m-sh-1/readings');
    const body = res.json<{ items: Raw[]; from: number; to: number }>();
    expect(body.to).toBe(T0);
    expect(body.from).toBe(T0 - 7 * 24 * H);
    expect(body.items).toHaveLength(N);
    expect(body.items.some((r) => r.seq === 0)).toBe(false);
  });

  it('accepts ISO 8601 times', async () => {
    const from = new Date(START).toISOString();
    const to = new Date(START + 3 * MIN).toISOString();
    const res = await get(`/api/devices/m-sh-1/readings?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(res.json<{ items: Raw[] }>().items.map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('downsamples into nice buckets when the range holds more than limit readings', async () => {
    const res = await get(`/api/devices/m-sh-1/readings?from=${START}&to=${T0}&limit=100`);
    const body = res.json<{ downsampled: boolean; bucketMs: number; items: Bucket[] }>();
    expect(body.downsampled).toBe(true);
    // 600 minutes in at most 100 buckets: 6 min would do, the next nice width is 10 min.
    expect(body.bucketMs).toBe(10 * MIN);
    expect(body.items).toHaveLength(60);
    expect(body.items.reduce((s, b) => s + b.count, 0)).toBe(N);
    const first = body.items[0] as Bucket;
    expect(first).toMatchObject({ ts: START, count: 10 });
    expect(first.min.energyWh).toBe(1000);
    expect(first.max.energyWh).toBe(1090);
    expect(first.mean.energyWh).toBeCloseTo(1045, 9);
    expect(first.mean.powerW).toBe(600);
  });

  it('downsamples with the bucket asked for', async () => {
    const res = await get(`/api/devices/m-sh-1/readings?from=${START}&to=${T0}&bucket=${H}`, 'admin');
    const body = res.json<{ downsampled: boolean; bucketMs: number; items: Bucket[] }>();
    expect(body.downsampled).toBe(true);
    expect(body.bucketMs).toBe(H);
    expect(body.items.map((b) => b.count)).toEqual(Array(10).fill(60));
  });

  it('answers 400 naming the field for a bad time, a reversed range or a limit over 10 000', async () => {
    const bad = await get('/api/devices/m-sh-1/readings?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^invalid request: querystring\.from: /);
    const reversed = await get(`/api/devices/m-sh-1/readings?from=${T0}&to=${START}`);
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().error.message).toMatch(/^invalid request: querystring\.from: /);
    const big = await get('/api/devices/m-sh-1/readings?limit=10001');
    expect(big.json().error.message).toMatch(/^invalid request: querystring\.limit: /);
  });

  it('hides devices outside the user’s regions', async () => {
    expect((await get('/api/devices/m-sh-1/readings', 'insp-js')).statusCode).toBe(404);
  });
});
