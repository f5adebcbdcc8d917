import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

/** Alerts leave the platform on MQTT as `alerts/{region}`, for the service accounts that may read them. */
describe('alerts on MQTT', () => {
  let p: PlatformProcess;
  beforeAll(async () => {
    p = await startPlatform();
  });
  afterAll(async () => {
    if (p) expect(await stopPlatform(p)).toBe(0);
  });

  it('publishes a tamper alert on alerts/JS to a service subscriber, and devices cannot listen in', async () => {
    const api = await adminApi(p);
    const { body: dev } = await api<{ id: string; secret: string }>('/api/devices', {
      method: 'POST',
      body: { id: 'JS-A777-M001', kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'JS', site: 'JS-A777', role: 'customer', installDate: '2024-01-01' },
    });
    const password = readFileSync(join(p.dataDir, 'service-password'), 'utf8').trim();
    const service = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: 'driftwatch-service-test', username: 'driftwatch-service', password, protocolVersion: 4, reconnectPeriod: 0 });
    const got = new Promise<{ topic: string; alert: { deviceId: string; type: string; region: string } }>((resolve) => {
      service.on('message', (topic, payload) => {
        const msg = JSON.parse(payload.toString()) as { alert?: { deviceId: string; type: string; region: string }; deviceId?: string; type?: string; region?: string };
        const alert = (msg.alert ?? msg) as { deviceId: string; type: string; region: string };
        if (alert.deviceId === dev.id) resolve({ topic, alert });
      });
    });
    await service.subscribeAsync('alerts/#', { qos: 1 });

    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0 });
    // deny by default: a device reads only its own commands (SUBACK 0x80, which mqtt.js raises)
    await expect(device.subscribeAsync('alerts/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await device.publishAsync(`devices/${dev.id}/readings`, JSON.stringify({ ts: Date.now(), seq: 1, energyWh: 1000, powerW: 300, events: ['magnetic'] }), { qos: 1 });

    const { topic, alert } = await got;
    expect(topic).toBe('alerts/JS');
    expect(alert).toMatchObject({ deviceId: dev.id, type: 'tamper', region: 'JS' });
    await device.endAsync();
    await service.endAsync();
  });
});
