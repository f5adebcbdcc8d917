import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { createInfluxStore, type InfluxTelemetryStore } from '../../ingest/store/influx/store.js';
import { until } from '../broker/processes.js';
import { reading } from './store-contract.js';

type Handler = (lines: string[], req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on loopback speaking InfluxDB's /write answers as each test scripts them. */
async function fakeInflux(handler: Handler): Promise<{ url: string; server: Server; received: string[][] }> {
  const received: string[][] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (b: Buffer) => (body += b.toString()));
    req.on('end', () => {
      const lines = body.split('\n');
      received.push(lines);
      handler(lines, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, received };
}

const T0 = 1_700_000_000_000;
const meters = (n: number, from = 1) => Array.from({ length: n }, (_, i) => reading('m-1', from + i, T0 + (from + i) * 1000, { energyWh: from + i, powerW: 1 }));


describe('InfluxDB sink: retry, split, stop', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup(handler: Handler, batchLines = 100): Promise<{ store: InfluxTelemetryStore; received: string[][] }> {
    const fake = await fakeInflux(handler);
    const db = openDb(':memory:');
    const store = createInfluxStore({ connection: { api: 'v1', url: fake.url, db: 'x' }, outbox: { db }, outboxMaxBytes: 1 << 20, batchLines, inFlight: 1, backoffMinMs: 20, backoffMaxMs: 200, readWaitMs: 0 });
    store.start();
    cleanups.push(async () => {
      await store.close();
      db.close();
      await new Promise((r) => fake.server.close(r));
    });
    return { store, received: fake.received };
  }

  it('backs off on 503, honours Retry-After, and releases only after a 204', async () => {
    const at: number[] = [];
    let calls = 0;
    const { store, received } = await setup((_l, _req, res) => {
      at.push(Date.now());
      calls++;
      if (calls === 1) res.writeHead(503, { 'retry-after': '1' }).end('overloaded');
      else if (calls === 2) res.writeHead(500).end('oops');
      else res.writeHead(204).end();
    });
    await store.append(meters(10));
    await until(() => store.outboxStats().pending === 0, 8000);
    expect(calls).toBe(3);
    expect((at[1] as number) - (at[0] as number)).toBeGreaterThanOrEqual(950); // Retry-After: 1 s
    expect(received.every((b) => b.length === 10)).toBe(true); // the same batch each time
    expect(store.outboxStats()).toMatchObject({ pending: 0, written: 10, failed: 0 });
    expect(store.outboxStats().sink.retries).toBe(2);
  });

  it('splits a 400 batch down to the offending line, which goes to rejected with the error text', async () => {
    const { store } = await setup((lines, _req, res) => {
      const bad = lines.some((l) => l.includes('seq=7i'));
      if (bad) res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"partial write: field type conflict"}');
      else res.writeHead(204).end();
    });
    expect(await store.append(meters(16))).toHaveLength(16);
    await until(() => store.outboxStats().pending === 0);
    expect(store.outboxStats()).toMatchObject({ written: 15, failed: 1, pending: 0 });
    expect(store.stats().failed).toBe(1);
    const [rej] = store.rejected();
    expect(rej?.status).toBe(400);
    expect(rej?.line).toContain('seq=7i');
    expect(rej?.error).toContain('field type conflict');
  });

  it('stops on 401 with everything still queued, and stays stopped', async () => {
    let calls = 0;
    const { store } = await setup((_l, _req, res) => {
      calls++;
      res.writeHead(401).end('{"error":"authorization failed"}');
    });
    await store.append(meters(5));
    await until(() => store.outboxStats().sink.state === 'stopped-auth');
    await store.append(meters(5, 6));
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
    expect(store.outboxStats()).toMatchObject({ pending: 10, written: 0, failed: 0 });
    expect(store.outboxStats().sink.lastError).toContain('401');
  });

  it('refuses appends once the outbox holds its limit, and keeps what it holds across a reopen', async () => {
    const fake = await fakeInflux((_l, _req, res) => res.writeHead(503).end('down'));
    const db = openDb(':memory:');
    const open = () => createInfluxStore({ connection: { api: 'v1', url: fake.url, db: 'x' }, outbox: { db }, outboxMaxBytes: 2000, backoffMinMs: 50, readWaitMs: 0 });
    let store = open();
    store.start();
    cleanups.push(async () => {
      await store.close();
      db.close();
      await new Promise((r) => fake.server.close(r));
    });
    let accepted = 0;
    let refused: unknown;
    for (let s = 1; s <= 100 && refused === undefined; s++) {
      try {
        await store.append(meters(1, s));
        accepted++;
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toMatchObject({ code: 'INFLUX_OUTBOX_FULL' });
    expect(accepted).toBeGreaterThan(5);
    expect(store.outboxStats().pending).toBe(accepted);
    await store.close();
    store = open();
    expect(store.outboxStats().pending).toBe(accepted);
    // the limit holds across the reopen too: devices keep their readings until the outbox drains
    await expect(store.append(meters(1, 1))).rejects.toMatchObject({ code: 'INFLUX_OUTBOX_FULL' });
  });
});
