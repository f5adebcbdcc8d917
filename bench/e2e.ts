/**
 * End to end, against a bare broker in the same run. The same devices (mqtt.js clients over TCP
 * on loopback, MQTT 3.1.1) publish the same QoS 1 readings
 * - to a bare aedes broker, which acknowledges each on receipt and hands it to one in-process
 *   subscriber that counts it, and
 * - to driftwatch's broker, which authenticates each device against the registry, authorises
 *   each topic, and acknowledges a reading only once ingest has validated it, deduplicated it and
 *   committed it to SQLite (synchronous FULL): the acknowledgement is the durability promise.
 * Runs alternate (bare, driftwatch, bare, …) so a machine whose speed drifts hurts both alike;
 * each device keeps `window` publishes in flight. The devices run in a worker thread of their own,
 * so the brokers' thread does the brokers' work only. Prints one JSON object: each run's readings per
 * second and acknowledgement latency (p50, p99), the medians, and the driftwatch/bare ratio of
 * each pair with its median.
 *
 *   npx driftwatch bench e2e [--devices 200] [--messages 50] [--window 4] [--runs 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { median, quantileSorted } from 'simple-statistics';
import { createBroker } from '../broker/broker.js';
import { createIngest } from '../ingest/ingest.js';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.js';
import { systemClock } from '../lib/clock.js';
import { openDb } from '../lib/sqlite.js';
import { Registry } from '../registry/registry.js';

interface Target {
  port: number;
  credentials: (i: number) => { clientId: string; username?: string; password?: string };
  /** readings the far end has taken (the bare broker's subscriber, or ingest's store) */
  taken(): number;
  close(): Promise<void>;
}

interface RunFigures {
  target: 'bare' | 'driftwatch';
  readingsPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  taken: number;
}

/** What a run needs to know of the load: the devices' ids, readings per device, publishes in flight per device. */
interface Load {
  ids: string[];
  nMessages: number;
  window: number;
}

function listenOn(handle: (s: import('node:net').Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    handle(socket);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function bareBroker({ ids }: Load): Promise<Target> {
  const aedes = new Aedes();
  await aedes.listen();
  let taken = 0;
  aedes.subscribe('devices/+/readings', (_packet, done) => {
    taken++;
    done();
  }, () => undefined);
  const server = await listenOn((s) => aedes.handle(s));
  return {
    port: (server.address() as AddressInfo).port,
    credentials: (i) => ({ clientId: ids[i] as string }),
    taken: () => taken,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

async function platformBroker({ ids }: Load): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-e2e-'));
  const registry = new Registry(openDb(':memory:'));
  const secrets = ids.map(
    (id) => registry.addDevice({ id, kind: 'meter', model: 'bench', accuracyClass: '2', region: 'SH', site: id.slice(0, 7), role: 'customer', installDate: '2024-01-01' }).secret,
  );
  const db = openDb(join(dir, 'platform.db'));
  const store = SqliteTelemetryStore.open({ file: join(dir, 'readings.db'), synchronous: 'FULL' });
  const ingest = createIngest({ store, quarantineDb: db, clock: systemClock });
  await ingest.start();
  const broker = createBroker({ registry, ingest, clock: systemClock });
  const { port } = await broker.listen(0);
  return {
    port,
    credentials: (i) => ({ clientId: ids[i] as string, username: ids[i] as string, password: secrets[i] as string }),
    taken: () => ingest.stats().accepted,
    close: async () => {
      await broker.close();
      await ingest.close();
      await store.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function connect(port: number, creds: { clientId: string; username?: string; password?: string }): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000, clean: true, ...creds });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

interface ClientsJob {
  port: number;
  credentials: { clientId: string; username?: string; password?: string }[];
  round: number;
  nMessages: number;
  window: number;
}

/** The devices' side of one run, in the worker: all connect, then all publish; times from the first publish to the last acknowledgement. */
async function clients(job: ClientsJob): Promise<{ seconds: number; p50: number; p99: number }> {
  const cs = await Promise.all(job.credentials.map((c) => connect(job.port, c)));
  const t0Ms = Date.now();
  // payloads built before the clock starts; seq numbers new in every round, so none is a duplicate
  const payloads = cs.map((_, d) =>
    Array.from({ length: job.nMessages }, (_, m) => {
      const seq = job.round * job.nMessages + m + 1;
      return Buffer.from(JSON.stringify({ ts: t0Ms - (job.nMessages - m) * 1000, seq, energyWh: 1e6 + seq * 10 + d, powerW: 500 + (seq % 100), voltageV: 230 }));
    }),
  );
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    cs.map(async (c, d) => {
      const topic = `devices/${job.credentials[d]?.clientId as string}/readings`;
      const mine = payloads[d] as Buffer[];
      let next = 0;
      const one = (): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const m = next++;
          const sent = performance.now();
          c.publish(topic, mine[m] as Buffer, { qos: 1 }, (err) => {
            if (err) return reject(err);
            latencies.push(performance.now() - sent);
            resolve();
          });
        }).then(() => (next < mine.length ? one() : undefined));
      await Promise.all(Array.from({ length: Math.min(job.window, mine.length) }, () => one()));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(cs.map((c) => c.endAsync()));
  latencies.sort((a, b) => a - b);
  return { seconds, p50: quantileSorted(latencies, 0.5), p99: quantileSorted(latencies, 0.99) };
}

/** One run against a target, the devices in a worker thread. */
async function run(kind: RunFigures['target'], target: Target, round: number, { ids, nMessages, window }: Load): Promise<RunFigures> {
  const job: ClientsJob = { port: target.port, credentials: ids.map((_, i) => target.credentials(i)), round, nMessages, window };
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const r = await new Promise<{ seconds: number; p50: number; p99: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  return {
    target: kind,
    readingsPerSecond: Math.round((ids.length * nMessages) / r.seconds),
    ackP50Ms: Number(r.p50.toFixed(2)),
    ackP99Ms: Number(r.p99.toFixed(2)),
    taken: target.taken(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '200' },
      messages: { type: 'string', default: '50' },
      window: { type: 'string', default: '4' },
      runs: { type: 'string', default: '3' },
    },
  });
  const nDevices = Number(values.devices);
  const runs = Number(values.runs);
  const load: Load = {
    ids: Array.from({ length: nDevices }, (_, i) => `SH-B${String(Math.floor(i / 80)).padStart(3, '0')}-M${String(i % 80).padStart(3, '0')}`),
    nMessages: Number(values.messages),
    window: Number(values.window),
  };
  const bare = await bareBroker(load);
  const platform = await platformBroker(load);
  const figures: RunFigures[] = [];
  for (let r = 0; r < runs; r++) {
    figures.push(await run('bare', bare, r, load));
    figures.push(await run('driftwatch', platform, r, load));
    process.stderr.write(`e2e: round ${r + 1} of ${runs}\n`);
  }
  await bare.close();
  await platform.close();

  const of = (t: RunFigures['target']) => figures.filter((f) => f.target === t);
  const summary = (t: RunFigures['target']) => ({
    readingsPerSecond: Math.round(median(of(t).map((f) => f.readingsPerSecond))),
    ackP50Ms: median(of(t).map((f) => f.ackP50Ms)),
    ackP99Ms: median(of(t).map((f) => f.ackP99Ms)),
    taken: of(t).at(-1)?.taken ?? 0,
  });
  const ratios = of('driftwatch').map((f, i) => Number((f.readingsPerSecond / (of('bare')[i] as RunFigures).readingsPerSecond).toFixed(3)));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'e2e',
      devices: nDevices,
      messagesPerDevice: load.nMessages,
      window: load.window,
      qos: 1,
      runs,
      bare: summary('bare'),
      driftwatch: summary('driftwatch'),
      throughputRatio: { median: median(ratios), each: ratios },
      each: figures,
    })}\n`,
  );
}

// the same file is the devices' worker (run) and the benchmark itself
if (isMainThread) await main();
else parentPort?.postMessage(await clients(workerData as ClientsJob));
