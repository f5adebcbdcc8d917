import { afterAll, describe, expect, it } from 'vitest';
import { INFLUXD, VICTORIA, influxql, serverTestsEnabled, startInfluxd, startVictoria, victoriaExport, type TsdbServer } from './influx-servers.js';
import { meterReading, publishAll, registerMeters, waitDrained } from './influx-fleet.js';
import { adminApi, startPlatform, stopPlatform, type PlatformProcess } from './platform-process.js';

const DEVICES = 1000;
const PER_DEVICE = 100;
const TOTAL = DEVICES * PER_DEVICE;

/**
 * 100 000 readings from 1 000 devices through the platform process (MQTT QoS 1, ingest, outbox,
 * sink) into a real TSDB, then every one read back from the TSDB itself.
 */
describe('the platform writes every reading to InfluxDB', () => {
  const servers: TsdbServer[] = [];
  const procs: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await stopPlatform(p, 'SIGKILL');
    for (const s of servers) await s.stop();
  });

  it.runIf(serverTestsEnabled(INFLUXD))('InfluxDB 1.6.7, v1 mode: 100 000 readings from 1 000 devices, all read back', async () => {
    const server = await startInfluxd();
    servers.push(server);
    await influxql(server.url, 'CREATE DATABASE dw');
    const p = await startPlatform({ INFLUX_URL: server.url, INFLUX_API: 'v1', INFLUX_DB: 'dw' });
    procs.push(p);
    const devices = await registerMeters(p, DEVICES);
    const t0 = Date.now() - 3_600_000;
    expect(await publishAll(p.mqttPort, devices, t0, PER_DEVICE, 25, 50)).toBe(TOTAL);
    const s = await waitDrained(p, 60_000);
    expect(s).toMatchObject({ pending: 0, failed: 0, written: TOTAL });

    const res = (await influxql(server.url, 'SELECT count("seq") FROM "meter" GROUP BY "device"', 'dw')) as { results: { series: { tags: { device: string }; values: [number, number][] }[] }[] };
    const series = res.results[0]?.series ?? [];
    expect(series).toHaveLength(DEVICES);
    for (const x of series) expect(x.values[0]?.[1], x.tags.device).toBe(PER_DEVICE);

    // spot values, through the platform's own read path (InfluxQL) and the dashboard API
    const api = await adminApi(p);
    for (const i of [0, 377, 999]) {
      const d = devices[i];
      if (!d) throw new Error('missing device');
      const { body } = await api<{ items: { seq: number; ts: number; energyWh: number; powerW: number }[] }>(`/api/devices/${d.id}/readings?from=${t0}&to=${t0 + 1_000_000}&limit=1000`);
      expect(body.items).toHaveLength(PER_DEVICE);
      const r = meterReading(t0, i, 42);
      const got = body.items.find((x) => x.seq === 42);
      expect(got).toMatchObject({ ts: r.ts, energyWh: r.energyWh, powerW: r.powerW });
    }
    const tags = (await influxql(server.url, `SELECT "energyWh", "model", "class", "site" FROM "meter" WHERE "device" = 'IT-M00377' AND "seq" = 99`, 'dw')) as { results: { series: { values: unknown[][] }[] }[] };
    expect(tags.results[0]?.series[0]?.values[0]?.slice(1)).toEqual([meterReading(t0, 377, 99).energyWh, 'DDZY-2', '1', 'JS-A017']);
    expect(await stopPlatform(p)).toBe(0);
  }, 120_000);

  it.runIf(serverTestsEnabled(VICTORIA))('VictoriaMetrics, v2 write API through the official client: 100 000 readings from 1 000 devices, all read back', async () => {
    const server = await startVictoria();
    servers.push(server);
    // VictoriaMetrics ignores org and bucket on /api/v2/write and takes any token
    const p = await startPlatform({ INFLUX_URL: server.url, INFLUX_API: 'v2', INFLUX_TOKEN: 'unused', INFLUX_ORG: 'dw', INFLUX_BUCKET: 'dw' });
    procs.push(p);
    const devices = await registerMeters(p, DEVICES);
    const t0 = Date.now() - 3_600_000;
    expect(await publishAll(p.mqttPort, devices, t0, PER_DEVICE, 25, 50)).toBe(TOTAL);
    const s = await waitDrained(p, 60_000);
    expect(s).toMatchObject({ pending: 0, failed: 0, written: TOTAL });

    // VictoriaMetrics stores each field as the series {measurement}_{field}
    const seq = await victoriaExport(server.url, 'meter_seq');
    expect(seq).toHaveLength(DEVICES);
    for (const x of seq) expect(x.values.length, x.metric.device).toBe(PER_DEVICE);
    const energy = await victoriaExport(server.url, 'meter_energyWh');
    for (const i of [0, 377, 999]) {
      const x = energy.find((e) => e.metric.device === devices[i]?.id);
      expect(x?.metric).toMatchObject({ region: 'JS', model: `DDZY-${i % 3}`, class: i % 2 === 0 ? '2' : '1' });
      const r = meterReading(t0, i, 42);
      const at = x?.timestamps.indexOf(r.ts) ?? -1;
      expect(at).toBeGreaterThanOrEqual(0);
      expect(x?.values[at]).toBe(r.energyWh);
    }
    expect(await stopPlatform(p)).toBe(0);
  }, 120_000);
});
