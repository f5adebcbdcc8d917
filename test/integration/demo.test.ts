import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('restarted on the same data, continues its fleet where it left off: nothing sent again as a reused sequence number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftwatch-demo-'));
    const env = { SIM_DEVICES: '40', SIM_SPEED: '20000', SIM_DAYS_BACK: '10' };
    type Stats = { ingest: { accepted: number; duplicates: number; quarantined: Record<string, number> }; fleet: { simulatedMs: number } };
    const first = await startPlatform(env, dir);
    let api = await adminApi(first);
    await new Promise((r) => setTimeout(r, 4000));
    const before = (await api<Stats>('/api/stats')).body;
    expect(before.ingest.accepted).toBeGreaterThan(0);
    expect(await stopPlatform(first)).toBe(0);
    const second = await startPlatform(env, dir);
    try {
      api = await adminApi(second);
      await new Promise((r) => setTimeout(r, 4000));
      const after = (await api<Stats>('/api/stats')).body;
      // new readings, from where the first run stopped, and none taken for a counter that went back
      expect(after.ingest.accepted).toBeGreaterThan(0);
      expect(after.ingest.quarantined['ING_SEQ_REUSED'] ?? 0).toBe(0);
      expect(after.fleet.simulatedMs).toBeGreaterThan(before.fleet.simulatedMs);
    } finally {
      expect(await stopPlatform(second)).toBe(0);
    }
  }, 120_000);
});
