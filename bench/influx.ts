/**
 * Readings per second sustained into each TSDB through the InfluxDB store (durable outbox on a
 * temporary SQLite file with synchronous = FULL, then the sink), against the TSDB's own ingest
 * ceiling measured in the same run: a plain batched HTTP writer posting pre-encoded lines with the
 * same batch size and requests in flight and no durability at all. Medians over --runs runs, one
 * JSON object on stdout.
 *
 *   npx driftwatch bench influx [--readings 100000] [--devices 1000] [--runs 3] [--batch 5000] [--inflight 4]
 *
 * Starts /usr/bin/influxd (v1 mode, /write) and /usr/bin/victoria-metrics (v2 write API through the
 * official client) on loopback with data in temp dirs, as the integration tests do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { median } from 'simple-statistics';
import type { Accepted } from '../ingest/readings.js';
import { LineEncoder } from '../ingest/store/influx/line.js';
import { createInfluxStore, type InfluxConnection } from '../ingest/store/influx/store.js';
import { influxql, startInfluxd, startVictoria, type TsdbServer } from '../test/integration/influx-servers.js';


function readings(n: number, devices: number, run: number): Accepted[] {
  const t0 = Date.UTC(2024, 0, 1) + run * 86_400_000;
  const out: Accepted[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = i % devices;
    const seq = Math.floor(i / devices) + 1;
    out[i] = { deviceId: `B-M${d}`, kind: 'meter', region: 'JS', site: `JS-A${d % 40}`, ts: t0 + seq * 1000, seq, receivedAt: t0 + seq * 1000 + 200, fields: { energyWh: d * 1000 + seq * 1.5, powerW: 100 + (seq % 7), voltageV: 230.1 }, events: [] };
  }
  return out;
}

/** the ceiling: pre-encoded lines, batched, `inflight` requests at once, nothing durable */
async function plainWriter(url: string, lines: string[], batch: number, inflight: number): Promise<number> {
  let next = 0;
  const t = performance.now();
  const lane = async () => {
    for (;;) {
      const lo = next;
      if (lo >= lines.length) return;
      next += batch;
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: lines.slice(lo, lo + batch).join('\n') });
      if (r.status !== 204) throw new Error(`plain writer: ${r.status} ${await r.text()}`);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return lines.length / ((performance.now() - t) / 1000);
}

/** through the store: appends in ingest-sized group commits, timed until the outbox is empty */
async function throughOutbox(connection: InfluxConnection, rs: Accepted[], batch: number, inflight: number, gzip: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-influx-'));
  const store = createInfluxStore({ connection, outbox: { file: join(dir, 'outbox.db') }, outboxMaxBytes: 4 * 2 ** 30, batchLines: batch, inFlight: inflight, gzip });
  store.start();
  const t = performance.now();
  const group = 1000; // ingest's default group commit size
  for (let i = 0; i < rs.length; i += group) await store.append(rs.slice(i, i + group));
  while (store.outboxStats().pending > 0) await new Promise((r) => setTimeout(r, 5));
  const rate = rs.length / ((performance.now() - t) / 1000);
  const s = store.outboxStats();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (s.failed > 0 || s.written !== rs.length) throw new Error(`outbox run lost track: ${JSON.stringify(s)}`);
  return Math.round(rate);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      readings: { type: 'string', default: '100000' },
      devices: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '3' },
      batch: { type: 'string', default: '5000' },
      inflight: { type: 'string', default: '4' },
    },
  });
  const n = Number(values.readings);
  const devices = Number(values.devices);
  const runs = Number(values.runs);
  const batch = Number(values.batch);
  const inflight = Number(values.inflight);
  const enc = new LineEncoder();
  const servers: TsdbServer[] = [];
  const result: Record<string, unknown> = { readings: n, devices, runs, batchLines: batch, inFlight: inflight, synchronous: 'FULL' };
  try {
    const influx = await startInfluxd();
    servers.push(influx);
    const vm = await startVictoria();
    servers.push(vm);
    const targets = [
      { name: 'influxdb-1.6.7-v1', plainUrl: (db: string) => `${influx.url}/write?db=${db}&precision=ms`, connection: (db: string): InfluxConnection => ({ api: 'v1', url: influx.url, db }), prepare: (db: string) => influxql(influx.url, `CREATE DATABASE ${db}`) },
      { name: 'victoria-metrics-v2', plainUrl: () => `${vm.url}/api/v2/write?org=b&bucket=b&precision=ms`, connection: (): InfluxConnection => ({ api: 'v2', url: vm.url, token: 'x', org: 'b', bucket: 'b' }), prepare: () => Promise.resolve() },
    ];
    let run = 0;
    for (const target of targets) {
      const plain: number[] = [];
      const outbox: number[] = [];
      const outboxGzip: number[] = [];
      for (let i = 0; i < runs; i++) {
        // every measurement writes fresh series-days, so no run overwrites another's points
        for (const [sink, fn] of [
          [plain, async (db: string, rs: Accepted[]) => Math.round(await plainWriter(target.plainUrl(db), rs.map((r) => enc.encode(r)), batch, inflight))],
          [outbox, (db: string, rs: Accepted[]) => throughOutbox(target.connection(db), rs, batch, inflight, false)],
          [outboxGzip, (db: string, rs: Accepted[]) => throughOutbox(target.connection(db), rs, batch, inflight, true)],
        ] as const) {
          const db = `bench${++run}`;
          await target.prepare(db);
          sink.push(await fn(db, readings(n, devices, run)));
        }
      }
      result[target.name] = {
        plainWriterPerS: median(plain),
        outboxPerS: median(outbox),
        outboxGzipPerS: median(outboxGzip),
        outboxShareOfCeiling: Math.round((median(outbox) / median(plain)) * 100) / 100,
        samples: { plain, outbox, outboxGzip },
      };
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
