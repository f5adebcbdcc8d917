import { afterAll, describe, expect, it } from 'vitest';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

/** `npm start` as a new user meets it: the platform with its demo fleet, on embedded defaults. */
describe('npm start with the demo fleet', () => {
  let p: PlatformProcess | undefined;
  afterAll(async () => {
    if (p) expect(await stopPlatform(p)).toBe(0);
  });

  it('answers health within 60 s, lists at least 300 devices and takes their readings', async () => {
    const t0 = Date.now();
    // SIM_DEVICES unset: the default demo fleet
    p = await startPlatform({ SIM_DEVICES: '' });
    expect(Date.now() - t0).toBeLessThan(60_000);
    const api = await adminApi(p);
    const devices = await api<{ total: number; items: { region: string }[] }>('/api/devices?limit=500');
    expect(devices.body.total).toBeGreaterThanOrEqual(300);
    expect(new Set(devices.body.items.map((d) => d.region))).toEqual(new Set(['SH', 'JS', 'ZJ', 'AH']));
    const accepted = async () => (await api<{ ingest: { accepted: number } }>('/api/stats')).body.ingest.accepted;
    const first = await accepted();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await accepted()).toBeGreaterThan(first);
  }, 90_000);
});
