import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfluxStore, type InfluxTelemetryStore } from '../../ingest/store/influx/store.js';
import { INFLUXD, influxql, serverTestsEnabled, startInfluxd, type TsdbServer } from '../integration/influx-servers.js';
import { reading, storeContract } from './store-contract.js';

/** The store contract against a real InfluxDB 1.6.7 in v1 mode: writes on /write, reads through InfluxQL. */
describe.runIf(serverTestsEnabled(INFLUXD))('InfluxDB store (v1, real influxd)', () => {
  let server: TsdbServer;
  let n = 0;
  beforeAll(async () => {
    server = await startInfluxd();
  }, 40_000);
  afterAll(async () => {
    await server?.stop();
  });

  const open = (file: string, db: string): InfluxTelemetryStore => {
    const s = createInfluxStore({ connection: { api: 'v1', url: server.url, db }, outbox: { file }, outboxMaxBytes: 64 << 20, readWaitMs: 5000, batchLines: 1000 });
    s.start();
    return s;
  };

  storeContract('influx v1', async () => {
    const db = `dw_contract_${++n}`;
    await influxql(server.url, `CREATE DATABASE ${db}`);
    const dir = mkdtempSync(join(tmpdir(), 'dw-influx-store-'));
    const file = join(dir, 'outbox.db');
    let store = open(file, db);
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = open(file, db);
        return store;
      },
      async cleanup() {
        await store.close();
        await influxql(server.url, `DROP DATABASE ${db}`);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });

  it('writes the documented schema: measurement = kind, tags, float fields, integer seq, ms timestamps', async () => {
    const db = 'dw_schema';
    await influxql(server.url, `CREATE DATABASE ${db}`);
    const dir = mkdtempSync(join(tmpdir(), 'dw-influx-store-'));
    const store = createInfluxStore({
      connection: { api: 'v1', url: server.url, db },
      outbox: { file: join(dir, 'o.db') },
      outboxMaxBytes: 1 << 20,
      deviceTags: (id) => (id === 'd 1' ? { model: 'DJY,2', class: '0.5' } : undefined),
    });
    store.start();
    try {
      await store.append([reading('d 1', 1, 1_700_000_000_123, { nozzle: 2, volumeL: 40, totalizerL: 1000, pulses: 4000, temperatureC: 15 }, 'dispenser', ['seal_open'])]);
      expect(await store.count('d 1')).toBe(1);
      const tags = (await influxql(server.url, 'SHOW TAG KEYS FROM "dispenser"', db)) as { results: { series: { values: string[][] }[] }[] };
      expect(tags.results[0]?.series[0]?.values.map((v) => v[0])).toEqual(['class', 'device', 'model', 'region', 'site']);
      const keys = (await influxql(server.url, 'SHOW FIELD KEYS FROM "dispenser"', db)) as { results: { series: { values: string[][] }[] }[] };
      const types = Object.fromEntries(keys.results[0]?.series[0]?.values.map((v) => [v[0], v[1]]) ?? []);
      expect(types).toEqual({ events: 'string', nozzle: 'float', pulses: 'float', receivedAt: 'integer', seq: 'integer', temperatureC: 'float', totalizerL: 'float', volumeL: 'float' });
      const rows = (await influxql(server.url, `SELECT * FROM "dispenser" WHERE "model" = 'DJY,2'`, db)) as { results: { series: { values: unknown[][] }[] }[] };
      expect(rows.results[0]?.series[0]?.values[0]?.[0]).toBe(1_700_000_000_123);
      expect(store.outboxStats()).toMatchObject({ pending: 0, written: 1, failed: 0 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes analytics outputs to their own measurement, once per instrument and time', async () => {
    const db = 'dw_analytics';
    await influxql(server.url, `CREATE DATABASE ${db}`);
    const dir = mkdtempSync(join(tmpdir(), 'dw-influx-store-'));
    const store = createInfluxStore({ connection: { api: 'v1', url: server.url, db }, outbox: { file: join(dir, 'o.db') }, outboxMaxBytes: 1 << 20, deviceTags: () => ({ model: 'DDZY-1', class: '2' }) });
    store.start();
    try {
      const e = { deviceId: 'SH-A001-M001', region: 'SH', site: 'SH-A001', ts: 1_700_000_000_000, ratio: 0.62, sd: 0.1, error: 0.0124, pOut: 0.0001, grade: 'B' };
      store.appendEstimates([e, { ...e, ts: e.ts + 86_400_000, ratio: 0.7 }]);
      store.appendEstimates([e]); // a replay of the same estimate: written again, InfluxDB keeps one point
      const deadline = Date.now() + 5000;
      while (store.outboxStats().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const rows = (await influxql(server.url, `SELECT ratio, sd, grade, model FROM "analytics" WHERE "device" = 'SH-A001-M001'`, db)) as { results: { series: { values: unknown[][] }[] }[] };
      const values = rows.results[0]?.series[0]?.values ?? [];
      expect(values).toEqual([
        [1_700_000_000_000, 0.62, 0.1, 'B', 'DDZY-1'],
        [1_700_000_000_000 + 86_400_000, 0.7, 0.1, 'B', 'DDZY-1'],
      ]);
      // analytics outputs are not readings: they bypass the readings' deduplication and count
      expect(store.outboxStats()).toMatchObject({ written: 3, accepted: 0, deduplicationRows: 0 });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
