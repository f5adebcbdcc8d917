import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

const run = promisify(execFile);
const HAVE_MOSQUITTO = existsSync('/usr/bin/mosquitto_pub');
if (process.env['CI'] && !HAVE_MOSQUITTO) throw new Error('CI is set but mosquitto_pub is missing: .ci/run installs mosquitto-clients');

interface Reading {
  ts: number;
  seq: number;
  receivedAt: number;
  energyWh?: number;
}

describe('the platform as a process: provisioning, MQTT in, API out', () => {
  let p: PlatformProcess;
  let api: Awaited<ReturnType<typeof adminApi>>;
  let dev: { id: string; secret: string };
  let other: { id: string; secret: string };

  beforeAll(async () => {
    p = await startPlatform();
    api = await adminApi(p);
    const mk = async (id: string) => {
      const r = await api<{ id: string; secret: string }>('/api/devices', {
        method: 'POST',
        body: { id, kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'SH', site: 'SH-A900', role: 'customer', installDate: '2024-03-01' },
      });
      expect(r.status).toBe(201);
      return r.body;
    };
    dev = await mk('SH-A900-M001');
    other = await mk('SH-A900-M002');
  });
  afterAll(async () => {
    if (p) expect(await stopPlatform(p)).toBe(0);
  });

  it('answers health and lists provisioned devices', async () => {
    const h = await fetch(`${p.base}/api/health`);
    expect(h.status).toBe(200);
    const list = await api<{ items: { id: string }[]; total: number }>('/api/devices?limit=10');
    expect(list.body.total).toBe(2);
    expect(list.body.items.map((d) => d.id)).toEqual(['SH-A900-M001', 'SH-A900-M002']);
  });

  it.skipIf(!HAVE_MOSQUITTO)('stores a mosquitto_pub reading within a second', async () => {
    const ts = Date.now();
    const t0 = Date.now();
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(p.mqttPort), '-i', dev.id, '-u', dev.id, '-P', dev.secret, '-q', '1', '-t', `devices/${dev.id}/readings`, '-m', JSON.stringify({ ts, seq: 1, energyWh: 1520345.5, powerW: 812.4 })]);
    let items: Reading[] = [];
    while (Date.now() - t0 < 1000) {
      items = (await api<{ items: Reading[] }>(`/api/devices/${dev.id}/readings?from=${ts - 1000}&to=${ts + 1000}`)).body.items;
      if (items.length) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ ts, seq: 1, energyWh: 1520345.5 });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it.skipIf(!HAVE_MOSQUITTO)('refuses a wrong secret at connect', async () => {
    const r = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(p.mqttPort), '-i', dev.id, '-u', dev.id, '-P', `${dev.secret}x`, '-q', '1', '-t', `devices/${dev.id}/readings`, '-m', '{}']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not authori[sz]ed|bad user name or password|Connection Refused/i);
  });

  it('stores nothing for a device whose topic another device publishes to, and stays up', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(`devices/${other.id}/readings`, JSON.stringify({ ts: Date.now(), seq: 7, energyWh: 1, powerW: 1 }), { qos: 1 });
    await closed; // the broker drops a device that publishes where it may not
    await c.endAsync(true);
    const r = await api<{ items: Reading[] }>(`/api/devices/${other.id}/readings?from=0&to=${Date.now() + 60_000}`);
    expect(r.body.items).toHaveLength(0);
    const stats = await api<{ broker: { deniedPublish: number } }>('/api/stats');
    expect(stats.body.broker.deniedPublish).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${p.base}/api/health`)).status).toBe(200);
  });

  it('quarantines malformed payloads with a reason and keeps the good readings around them', async () => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: other.id, username: other.id, password: other.secret, protocolVersion: 4, reconnectPeriod: 0 });
    const topic = `devices/${other.id}/readings`;
    const now = Date.now();
    await c.publishAsync(topic, JSON.stringify({ ts: now, seq: 100, energyWh: 10, powerW: 5 }), { qos: 1 });
    await c.publishAsync(topic, '{"ts": oops', { qos: 1 });
    await c.publishAsync(topic, JSON.stringify({ ts: now + 3_600_000, seq: 101, energyWh: 11, powerW: 5 }), { qos: 1 });
    await c.publishAsync(topic, JSON.stringify({ ts: now + 2, seq: 102, energyWh: 'x', powerW: 5 }), { qos: 1 });
    await c.publishAsync(topic, JSON.stringify([{ ts: now + 3, seq: 103, energyWh: 12, powerW: 5 }, { ts: now + 4, seq: 104, energyWh: 12, powerW: 5e9 }]), { qos: 1 });
    await c.publishAsync(topic, JSON.stringify({ ts: now + 5, seq: 105, energyWh: 13, powerW: 5 }), { qos: 1 });
    expect(c.connected).toBe(true); // a malformed payload is quarantined, not a reason to drop the device
    await c.endAsync();
    const q = await api<{ items: { deviceId: string; reason: string; topic: string; payload: string }[] }>(`/api/quarantine?deviceId=${other.id}`);
    const reasons = q.body.items.map((i) => i.reason).sort();
    expect(reasons).toEqual(['ING_JSON_MALFORMED', 'ING_SCHEMA_INVALID', 'ING_TS_FUTURE', 'ING_VALUE_ABSURD'].sort());
    expect(q.body.items.every((i) => i.topic === topic)).toBe(true);
    const r = await api<{ items: Reading[] }>(`/api/devices/${other.id}/readings?from=${now - 1}&to=${now + 7_200_000}`);
    expect(r.body.items.map((i) => i.seq)).toEqual([100, 103, 105]);
    expect((await fetch(`${p.base}/api/health`)).status).toBe(200);
  });
});
