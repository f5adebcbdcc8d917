import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

/**
 * The durability promise: a reading that got its PUBACK survives kill -9 of the platform.
 * A device streams QoS 1 readings with many in flight; the platform is SIGKILLed mid-stream and
 * restarted on the same data; every acknowledged seq must then be stored exactly once.
 */
describe('kill -9 during a QoS 1 stream', () => {
  const procs: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await stopPlatform(p, 'SIGKILL');
  });

  it('keeps every acknowledged reading, each once', async () => {
    const p1 = await startPlatform();
    procs.push(p1);
    const api1 = await adminApi(p1);
    const { body: dev } = await api1<{ id: string; secret: string }>('/api/devices', {
      method: 'POST',
      body: { id: 'JS-A001-M001', kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'JS', site: 'JS-A001', role: 'customer', installDate: '2023-01-01' },
    });

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p1.mqttPort}`, {
      clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0,
    });
    client.on('error', () => {});
    const acked = new Set<number>();
    const t0 = Date.now() - 3_600_000;
    let seq = 0;
    let killed = false;
    const inflight = new Set<Promise<unknown>>();
    // stream until well past the kill, keeping a window of 64 publishes in flight
    while (!killed || inflight.size > 0) {
      if (!killed && client.connected && inflight.size < 64) {
        const s = ++seq;
        const pr = client
          .publishAsync(`devices/${dev.id}/readings`, JSON.stringify({ ts: t0 + s * 1000, seq: s, energyWh: 1000 + s, powerW: 500 }), { qos: 1 })
          .then(() => acked.add(s), () => {})
          .finally(() => inflight.delete(pr));
        inflight.add(pr);
        if (s === 1500) {
          p1.child.kill('SIGKILL');
          killed = true;
        }
        if (s % 32 === 0) await new Promise((r) => setImmediate(r));
      } else {
        await Promise.race([...inflight, new Promise((r) => setTimeout(r, 50))]);
        if (killed && !client.connected) break;
      }
    }
    await p1.exited;
    client.end(true);
    expect(acked.size).toBeGreaterThan(100);
    expect(acked.size).toBeLessThan(1500); // some were in flight when the process died

    const p2 = await startPlatform({}, p1.dataDir, { http: p1.httpPort, mqtt: p1.mqttPort });
    procs.push(p2);
    const api2 = await adminApi(p2);
    const r = await api2<{ items: { seq: number }[] }>(`/api/devices/${dev.id}/readings?from=${t0}&to=${t0 + 10_000_000}&limit=10000`);
    const stored = r.body.items.map((i) => i.seq);
    expect(new Set(stored).size).toBe(stored.length); // exactly once
    const missing = [...acked].filter((s) => !stored.includes(s));
    expect(missing).toEqual([]);

    // the device resends what it did not get acknowledged: duplicates of stored ones are absorbed
    const c2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${p2.mqttPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0 });
    for (let s = 1; s <= seq; s++) if (!acked.has(s)) await c2.publishAsync(`devices/${dev.id}/readings`, JSON.stringify({ ts: t0 + s * 1000, seq: s, energyWh: 1000 + s, powerW: 500 }), { qos: 1 });
    await c2.publishAsync(`devices/${dev.id}/readings`, JSON.stringify({ ts: t0 + 1000, seq: 1, energyWh: 1001, powerW: 500 }), { qos: 1 });
    await c2.endAsync();
    const after = (await api2<{ items: { seq: number }[] }>(`/api/devices/${dev.id}/readings?from=${t0}&to=${t0 + 10_000_000}&limit=10000`)).body.items.map((i) => i.seq);
    expect(after).toHaveLength(seq);
    expect(new Set(after).size).toBe(seq);
    expect(await stopPlatform(p2)).toBe(0);
  }, 120_000);
});
