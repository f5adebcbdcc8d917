import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { INFLUXD, influxql, serverTestsEnabled, startInfluxd, type TsdbServer } from './influx-servers.js';
import { meterReading, registerMeters, waitDrained } from './influx-fleet.js';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

/**
 * InfluxDB is killed (-9) during a QoS 1 stream and comes back 10 s later. Every reading the
 * platform acknowledged must then be in InfluxDB exactly once, and the outbox must drain to zero.
 */
describe.runIf(serverTestsEnabled(INFLUXD))('InfluxDB outage during a QoS 1 stream', () => {
  let server: TsdbServer | undefined;
  let p: PlatformProcess | undefined;
  afterAll(async () => {
    if (p) await stopPlatform(p, 'SIGKILL');
    await server?.stop();
  });

  it('holds exactly the acknowledged readings afterwards and the backlog drains', async () => {
    server = await startInfluxd();
    await influxql(server.url, 'CREATE DATABASE dw');
    p = await startPlatform({ INFLUX_URL: server.url, INFLUX_API: 'v1', INFLUX_DB: 'dw', INFLUX_BATCH_LINES: '500' });
    const [dev] = await registerMeters(p, 1);
    if (!dev) throw new Error('no device');
    const api = await adminApi(p);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { clientId: dev.id, username: dev.id, password: dev.secret, protocolVersion: 4, reconnectPeriod: 0 });
    // 1 s apart, up to ~16 000 readings: start two days back so none lies in the future
    const t0 = Date.now() - 2 * 86_400_000;
    const acked = new Set<number>();
    const inflight = new Set<Promise<unknown>>();
    let seq = 0;
    let killedAt = 0;
    let restarted = false;
    let sawBacklog = 0;
    const streamUntil = Date.now() + 16_000;
    // a steady stream of about 1 000 readings/s with up to 32 publishes in flight, for 16 s
    while (Date.now() < streamUntil) {
      if (inflight.size < 32) {
        const s = ++seq;
        const pr = client
          .publishAsync(`devices/${dev.id}/readings`, JSON.stringify(meterReading(t0, 0, s)), { qos: 1 })
          .then(() => acked.add(s))
          .finally(() => inflight.delete(pr));
        inflight.add(pr);
        if (s % 10 === 0) await new Promise((r) => setTimeout(r, 10));
      } else await Promise.race(inflight);
      if (seq === 2000 && killedAt === 0) {
        await server.kill();
        killedAt = Date.now();
      }
      if (killedAt > 0 && !restarted && Date.now() - killedAt >= 10_000) {
        const { body } = await api<{ influx: { pending: number } }>('/api/stats');
        sawBacklog = body.influx.pending;
        await server.restart();
        restarted = true;
      }
    }
    await Promise.all(inflight);
    await client.endAsync();
    expect(killedAt).toBeGreaterThan(0);
    expect(restarted).toBe(true);
    // readings kept coming while InfluxDB was down: they waited in the outbox
    expect(sawBacklog).toBeGreaterThan(1000);
    expect(acked.size).toBe(seq); // the outage never reached the devices

    const s = await waitDrained(p, 60_000);
    expect(s.pending).toBe(0);
    expect(s.failed).toBe(0);
    const res = (await influxql(server.url, `SELECT "seq" FROM "meter" WHERE "device" = '${dev.id}'`, 'dw')) as { results: { series?: { values: [number, number][] }[] }[] };
    const stored = (res.results[0]?.series?.[0]?.values ?? []).map((v) => v[1]);
    expect(stored.length).toBe(acked.size); // none duplicated
    expect([...acked].filter((x) => !stored.includes(x))).toEqual([]); // none missing
    expect(await stopPlatform(p)).toBe(0);
  }, 120_000);
});
