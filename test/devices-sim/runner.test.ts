import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { buildFleet } from '../../devices-sim/fleet.js';
import { createFleetRunner, type FleetRunner } from '../../devices-sim/runner.js';
import { createFleet } from '../../devices-sim/index.js';
import { DeviceInput } from '../../registry/schema.js';
import { ManualClock } from '../../lib/clock.js';
import { DAY, HOUR, START, scenario } from './helpers.js';
import { MAX_PAYLOAD_BYTES } from '../../ingest/readings.js';

/** bytes of each backfill array the test broker received */
const batchBytes: number[] = [];

interface Broker {
  port: number;
  /** device id → every reading seq received (batches flattened) */
  received: Map<string, number[]>;
  batches: number[];
  stop(): Promise<void>;
}

/** A minimal aedes broker on loopback, authenticating devices against the secrets map. */
async function startBroker(secrets: ReadonlyMap<string, string>, received: Map<string, number[]>, batches: number[], port = 0): Promise<Broker> {
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const ok = username === client.id && password !== undefined && secrets.get(client.id) === password.toString();
      done(null, ok);
    },
  });
  aedes.on('publish', (packet, client) => {
    if (!client) return;
    const body = JSON.parse(packet.payload.toString()) as { seq: number } | { seq: number }[];
    const list = received.get(client.id) ?? [];
    if (Array.isArray(body)) {
      batches.push(body.length);
      batchBytes.push(packet.payload.length);
      for (const r of body) list.push(r.seq);
    } else list.push(body.seq);
    received.set(client.id, list);
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    batches,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(what: string, cond: () => boolean, timeoutMs = 8_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const complete = (seqs: number[] | undefined, n: number) => {
  const s = new Set(seqs ?? []);
  for (let i = 1; i <= n; i++) if (!s.has(i)) return false;
  return true;
};

let runner: FleetRunner | null = null;
let broker: Broker | null = null;
afterEach(async () => {
  await runner?.close();
  await broker?.stop();
  runner = null;
  broker = null;
});

const meterOnly = (over: Parameters<typeof scenario>[0] = {}) =>
  scenario({
    areas: { count: 1, metersPerArea: [5, 5], intervalMin: 60, lossPct: [3, 7] },
    stations: { count: 0, tanksPerStation: 1, nozzlesPerTank: 1, txPerNozzlePerDay: 0 },
    markets: { count: 0, scalesPerMarket: 1, checksPerDay: 0 },
    ...over,
  });

describe('fleet runner against a real aedes broker', () => {
  it('connects every device gradually, publishes QoS 1, and after a broker restart reconnects and delivers the buffer', async () => {
    const fleet = buildFleet(meterOnly(), START);
    const secrets = new Map(fleet.devices.map((d) => [d.id, `secret-${d.id}`]));
    const received = new Map<string, number[]>();
    const batches: number[] = [];
    broker = await startBroker(secrets, received, batches);
    const port = broker.port;
    const clock = new ManualClock(START);
    runner = createFleetRunner({ fleet, secrets, brokerUrl: `mqtt://127.0.0.1:${port}`, clock, tickMs: 20, connectBatch: 2, backoff: { baseMs: 50, capMs: 400 } });
    await runner.start();
    const r = runner;
    await until('all connected', () => r.stats().connected === fleet.devices.length);

    clock.advance(3 * HOUR);
    await until('first readings', () => fleet.devices.every((d) => complete(received.get(d.id), 3)));
    await until('acks', () => r.stats().acked >= 3 * fleet.devices.length);
    expect(r.stats()).toMatchObject({ devices: 6, generated: 18, buffered: 0, dropped: 0 });

    await broker.stop();
    await until('all disconnected', () => r.stats().connected === 0);
    clock.advance(5 * HOUR);
    await until('buffered while down', () => r.stats().buffered >= 5 * fleet.devices.length);

    broker = await startBroker(secrets, received, batches, port);
    await until('reconnected', () => r.stats().connected === fleet.devices.length);
    await until('buffer delivered', () => fleet.devices.every((d) => complete(received.get(d.id), 8)));
    await until('buffer drained', () => r.stats().buffered === 0);
    const s = r.stats();
    expect(s.reconnects).toBeGreaterThanOrEqual(fleet.devices.length);
    expect(s.ackedReadings).toBeGreaterThanOrEqual(8 * fleet.devices.length);
    expect(s.dropped).toBe(0);
  }, 20_000);

  it('rejects a wrong secret at the broker and keeps retrying with backoff', async () => {
    const fleet = buildFleet(meterOnly({ areas: { count: 1, metersPerArea: [1, 1], intervalMin: 60, lossPct: [3, 7] } }), START);
    const secrets = new Map(fleet.devices.map((d) => [d.id, 'right']));
    broker = await startBroker(secrets, new Map(), []);
    const wrong = new Map(fleet.devices.map((d) => [d.id, 'wrong']));
    runner = createFleetRunner({ fleet, secrets: wrong, brokerUrl: `mqtt://127.0.0.1:${broker.port}`, clock: new ManualClock(START), tickMs: 20, backoff: { baseMs: 20, capMs: 100 } });
    await runner.start();
    const r = runner;
    await until('retries', () => r.stats().reconnects >= 6);
    expect(r.stats().connected).toBe(0);
  });

  it('an offline device backfills its held readings as JSON arrays of at most 200; the buffer limit drops oldest', async () => {
    const fleet = buildFleet(
      meterOnly({
        areas: { count: 1, metersPerArea: [2, 2], intervalMin: 5, lossPct: [3, 7] },
        faults: [{ kind: 'meter', type: 'offline', count: 1, startDay: [0, 0], days: [2, 2] }],
      }),
      START,
    );
    const secrets = new Map(fleet.devices.map((d) => [d.id, 's']));
    const received = new Map<string, number[]>();
    const batches: number[] = [];
    batchBytes.length = 0;
    broker = await startBroker(secrets, received, batches);
    const clock = new ManualClock(START);
    runner = createFleetRunner({ fleet, secrets, brokerUrl: `mqtt://127.0.0.1:${broker.port}`, clock, tickMs: 20, maxSliceMs: DAY, maxBufferedPerDevice: 500 });
    await runner.start();
    const r = runner;
    await until('connected', () => r.stats().connected === 3);
    // 2 days of 5-minute readings: 576 held by the offline meter, more than its 500 limit; the
    // clock moves in half days so the two healthy meters' queues drain and never reach it
    for (let k = 1; k <= 4; k++) {
      clock.advance(DAY / 2);
      await until('healthy meters delivered', () => r.stats().ackedReadings >= 2 * 144 * k);
    }
    clock.advance(HOUR);
    const off = fleet.devices.find((d) => d.error.has('offline'));
    if (!off) throw new Error('no offline device');
    const expected = (2 * DAY + HOUR) / (5 * 60_000);
    // wait for the newest reading too: the runner generates the last hour on its next tick
    await until('backfill', () => Math.max(0, ...(received.get(off.id) ?? [])) >= expected && r.stats().buffered === 0);
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) expect(b).toBeLessThanOrEqual(200);
    // and every message within ingest's payload limit, or ingest would quarantine the lot of it
    for (const b of batchBytes) expect(b).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(r.stats().dropped).toBe(2 * DAY / (5 * 60_000) - 500);
    const seqs = received.get(off.id) ?? [];
    // the newest readings survived, the oldest were dropped
    expect(Math.max(...seqs)).toBe(expected);
    expect(Math.min(...seqs)).toBe(2 * DAY / (5 * 60_000) - 500 + 1);
  });

  it('duplicates and reorders on request, without losing readings', async () => {
    const fleet = buildFleet(meterOnly(), START);
    const secrets = new Map(fleet.devices.map((d) => [d.id, 's']));
    const received = new Map<string, number[]>();
    broker = await startBroker(secrets, received, []);
    const clock = new ManualClock(START);
    runner = createFleetRunner({ fleet, secrets, brokerUrl: `mqtt://127.0.0.1:${broker.port}`, clock, tickMs: 20, duplicateRate: 0.3, outOfOrderRate: 0.3 });
    await runner.start();
    const r = runner;
    await until('connected', () => r.stats().connected === 6);
    clock.advance(DAY);
    await until('delivered', () => fleet.devices.every((d) => complete(received.get(d.id), 24)) && r.stats().buffered === 0);
    const all = [...received.values()];
    const total = all.reduce((n, xs) => n + xs.length, 0);
    expect(total).toBeGreaterThan(6 * 24 * 1.15);
    const inversions = all.reduce((n, xs) => n + xs.filter((x, i) => i > 0 && x < (xs[i - 1] as number)).length, 0);
    expect(inversions).toBeGreaterThan(5);
  });

  it('createFleet wires fleet, truth, secrets and runner; close is idempotent and final', async () => {
    const sim = createFleet({ scenario: meterOnly(), nowMs: START, brokerUrl: 'mqtt://127.0.0.1:1', clock: new ManualClock(START), tickMs: 20 });
    expect(sim.registrations).toHaveLength(6);
    for (const { input, secret } of sim.registrations) {
      expect(DeviceInput.safeParse(input).success).toBe(true);
      expect(secret.length).toBeGreaterThanOrEqual(16);
    }
    const secrets = new Map(sim.registrations.map((x) => [x.input.id, x.secret]));
    const received = new Map<string, number[]>();
    broker = await startBroker(secrets, received, []);
    const clock = new ManualClock(START);
    const live = createFleet({ scenario: meterOnly(), nowMs: START, secrets, brokerUrl: `mqtt://127.0.0.1:${broker.port}`, clock, tickMs: 20 });
    await live.start();
    await until('connected', () => live.stats().connected === 6);
    clock.advance(2 * HOUR);
    await until('published', () => live.fleet.devices.every((d) => complete(received.get(d.id), 2)));
    await live.close();
    await live.close();
    expect(live.stats().connected).toBe(0);
    await expect(live.start()).rejects.toMatchObject({ code: 'SIM_RUNNER_CLOSED' });
    await sim.close();
  });
});
