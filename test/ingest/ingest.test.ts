import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { openDb, type Db } from '../../lib/sqlite.js';
import { createIngest, type Ingest, type IngestOptions } from '../../ingest/ingest.js';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.js';
import type { AppendOutcome, TelemetryStore } from '../../ingest/store/port.js';
import type { Accepted } from '../../ingest/readings.js';
import { DriftwatchError } from '../../lib/errors.js';
import { DAY_MS, NOW, device, goodReading, json } from './helpers.js';

const METER = device('m-1', 'meter');
const TOPIC = 'devices/m-1/readings';

/** Delegates to a real store, counting append calls, optionally failing or holding them. */
class ProbeStore implements TelemetryStore {
  readonly name = 'probe';
  appendCalls: number[] = [];
  fail = false;
  hold: Promise<void> | null = null;
  readonly #inner: TelemetryStore;
  constructor(inner: TelemetryStore) {
    this.#inner = inner;
  }
  async append(readings: readonly Accepted[]): Promise<AppendOutcome[]> {
    this.appendCalls.push(readings.length);
    if (this.hold) await this.hold;
    if (this.fail) throw new Error('disk on fire');
    return this.#inner.append(readings);
  }
  range: TelemetryStore['range'] = (...a) => this.#inner.range(...a);
  downsample: TelemetryStore['downsample'] = (...a) => this.#inner.downsample(...a);
  count: TelemetryStore['count'] = (...a) => this.#inner.count(...a);
  stats = () => this.#inner.stats();
  close = () => this.#inner.close();
}

describe('ingest', () => {
  let dir: string;
  let db: Db;
  let store: ProbeStore;
  let clock: ManualClock;
  let ingest: Ingest;
  let batches: Accepted[][];

  function make(extra: Partial<IngestOptions> = {}): Ingest {
    const i = createIngest({ store, quarantineDb: db, clock, ...extra });
    i.start();
    i.onAccepted((b) => batches.push([...b]));
    return i;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dw-ingest-'));
    db = openDb(join(dir, 'platform.db'));
    store = new ProbeStore(SqliteTelemetryStore.open({ file: join(dir, 'readings.db') }));
    clock = new ManualClock(NOW);
    batches = [];
    ingest = make();
  });
  afterEach(async () => {
    await ingest.close();
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const quarantined = () => ingest.quarantine.list({ limit: 100 }).items;

  it('accepts good readings of all four kinds and hands them on', async () => {
    await Promise.all(
      (['meter', 'dispenser', 'tank', 'scale'] as const).map((kind) =>
        ingest.accept(device(`${kind}-1`, kind, 'ZJ'), 'readings', `devices/${kind}-1/readings`, json(goodReading[kind](1)), NOW + 10),
      ),
    );
    expect(await store.count()).toBe(4);
    const got = batches.flat();
    expect(got).toHaveLength(4);
    expect(got.find((a) => a.kind === 'meter')).toEqual({
      deviceId: 'meter-1',
      kind: 'meter',
      region: 'ZJ',
      site: 'site-ZJ',
      ts: NOW,
      seq: 1,
      receivedAt: NOW + 10,
      fields: { energyWh: 1_234_567, powerW: 850, voltageV: 229.8, currentA: 3.7 },
      events: ['cover_open'],
    });
    expect(got.find((a) => a.kind === 'scale')?.fields).toEqual({ zeroKg: 0.002, checkRefKg: 10, checkIndicatedKg: 10.005, tiltDeg: 0.3 });
    expect(got.find((a) => a.kind === 'tank')?.events).toEqual([]);
    const s = ingest.stats();
    expect(s).toMatchObject({ messages: 4, received: 4, accepted: 4, duplicates: 0, pending: 0 });
    expect(Object.values(s.quarantined).every((n) => n === 0)).toBe(true);
    expect(quarantined()).toEqual([]);
  });

  it('quarantines each rejection reason with its code', async () => {
    await ingest.close();
    ingest = make({ limits: { maxBatchReadings: 5 } });
    const cases: [string, Buffer, 'readings' | 'status'][] = [
      ['ING_JSON_MALFORMED', Buffer.from('{"ts": 17'), 'readings'],
      ['ING_SCHEMA_INVALID', json({ ...goodReading.meter(1), bogus: true }), 'readings'],
      ['ING_VALUE_ABSURD', Buffer.from(`{"ts":${NOW},"seq":2,"energyWh":1e999,"powerW":1}`), 'readings'],
      ['ING_PAYLOAD_OVERSIZE', Buffer.alloc(16 * 1024 + 1, 0x20), 'readings'],
      ['ING_TS_FUTURE', json(goodReading.meter(3, NOW + 5 * 60_000 + 1)), 'readings'],
      ['ING_TS_TOO_OLD', json(goodReading.meter(4, NOW - 91 * DAY_MS)), 'readings'],
      ['ING_BATCH_TOO_LARGE', json([5, 6, 7, 8, 9, 10].map((s) => goodReading.meter(s))), 'readings'],
      ['ING_STATUS_INVALID', Buffer.from('[1,2]'), 'status'],
    ];
    for (const [, payload, channel] of cases) await ingest.accept(METER, channel, TOPIC, payload, NOW);
    const rows = quarantined().reverse();
    expect(rows.map((r) => r.reason)).toEqual(cases.map((c) => c[0]));
    for (const r of rows) {
      expect(r.deviceId).toBe('m-1');
      expect(r.region).toBe('SH');
      expect(r.receivedAt).toBe(NOW);
      expect(r.detail.length).toBeGreaterThan(0);
    }
    const oversize = rows.find((r) => r.reason === 'ING_PAYLOAD_OVERSIZE');
    expect(oversize?.payload.length).toBe(1024);
    expect(oversize?.payloadBytes).toBe(16 * 1024 + 1);
    expect(rows[0]?.payload).toBe('{"ts": 17');
    expect(ingest.stats().quarantined).toMatchObject({ ING_JSON_MALFORMED: 1, ING_TS_FUTURE: 1, ING_STATUS_INVALID: 1 });
    expect(await store.count()).toBe(0);
    expect(batches).toEqual([]);
  });

  it('keeps the good readings of a batch with a bad element and quarantines that element alone', async () => {
    const bad = { ...goodReading.meter(2), powerW: -3 };
    const batch = [goodReading.meter(1), bad, goodReading.meter(3)];
    await ingest.accept(METER, 'readings', TOPIC, json(batch), NOW);
    expect(batches.flat().map((a) => a.seq)).toEqual([1, 3]);
    const [row] = quarantined();
    expect(row?.reason).toBe('ING_VALUE_ABSURD');
    expect(JSON.parse(row?.payload ?? '')).toEqual(bad);
    expect(ingest.stats()).toMatchObject({ received: 3, accepted: 2 });
  });

  it('tells its listeners what it quarantined, with the device and its site, once stored', async () => {
    const told: { deviceId: string; site?: string | undefined; reason: string }[] = [];
    const stop = ingest.onQuarantined((rows) => told.push(...rows));
    await ingest.accept(METER, 'readings', TOPIC, Buffer.from('{"ts": 17'), NOW);
    await ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(1), { ...goodReading.meter(2), powerW: -3 }]), NOW);
    stop();
    await ingest.accept(METER, 'readings', TOPIC, Buffer.from('nope'), NOW);
    expect(told.map((r) => [r.deviceId, r.site, r.reason])).toEqual([
      [METER.id, METER.site, 'ING_JSON_MALFORMED'],
      [METER.id, METER.site, 'ING_VALUE_ABSURD'],
    ]);
  });

  it('quarantines the bad elements of a batch as one row per reason, with their count', async () => {
    await ingest.close();
    ingest = make({ limits: { maxPayloadBytes: 1 << 20 } });
    const batch: unknown[] = [];
    for (let i = 0; i < 1000; i++) batch.push(i % 10 === 0 ? goodReading.meter(i) : i % 2 ? { seq: i } : goodReading.meter(i, NOW + 10 * 60_000));
    await ingest.accept(METER, 'readings', TOPIC, json(batch), NOW);
    const rows = quarantined();
    expect(rows.map((r) => [r.reason, r.readings])).toEqual([
      ['ING_TS_FUTURE', 400],
      ['ING_SCHEMA_INVALID', 500],
    ]);
    const schema = rows[1];
    expect(schema?.detail).toMatch(/^500 of 1000 readings \(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, …\); the first: /);
    expect(schema?.payload.startsWith('[{"seq":1},{"seq":3},')).toBe(true);
    expect(schema?.payload.length).toBe(1024); // the first 1 KiB of the rejected elements
    expect(ingest.stats()).toMatchObject({ received: 1000, accepted: 100 });
    expect(ingest.stats().quarantined).toMatchObject({ ING_TS_FUTURE: 400, ING_SCHEMA_INVALID: 500 });
  });

  it("keeps one device's quarantine record while another device floods the quarantine", async () => {
    await ingest.close();
    ingest = make({ quarantineMaxRows: 100, quarantineMaxRowsPerDevice: 20 });
    await ingest.accept(METER, 'readings', TOPIC, Buffer.from('{"ts": 17'), NOW);
    const flooder = device('m-9', 'meter');
    // 300 messages, each a batch of bad readings of two kinds, each kind with several bad elements
    for (let m = 0; m < 300; m++) {
      const batch = [{ seq: m }, { seq: m, x: 1 }, goodReading.meter(m, NOW + 10 * 60_000), goodReading.meter(m + 1, NOW + 10 * 60_000)];
      await ingest.accept(flooder, 'readings', 'devices/m-9/readings', json(batch), NOW);
    }
    const mine = ingest.quarantine.list({ limit: 100, deviceId: 'm-1' }).items;
    expect(mine.map((r) => [r.reason, r.payload])).toEqual([['ING_JSON_MALFORMED', '{"ts": 17']]);
    expect(ingest.quarantine.list({ limit: 100, deviceId: 'm-9' }).items).toHaveLength(20);
    expect(ingest.stats().quarantined).toMatchObject({ ING_JSON_MALFORMED: 1, ING_SCHEMA_INVALID: 600, ING_TS_FUTURE: 600 });
  });

  it('counts duplicates and passes only new readings on', async () => {
    await ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(1), goodReading.meter(2)]), NOW);
    await ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(2), goodReading.meter(3)]), NOW);
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW);
    expect(batches.map((b) => b.map((a) => a.seq))).toEqual([[1, 2], [3]]);
    expect(ingest.stats()).toMatchObject({ accepted: 3, duplicates: 2 });
    expect(await store.count('m-1')).toBe(3);
  });

  it('keeps every reading of a reset device\'s backfill in its quarantine row, not the first 1 KiB', async () => {
    const first = Array.from({ length: 100 }, (_, i) => goodReading.meter(i + 1));
    await ingest.accept(METER, 'readings', TOPIC, json(first), NOW);
    // the same seqs again, with other times: the counter went back
    const again = Array.from({ length: 100 }, (_, i) => goodReading.meter(i + 1, NOW - 7_200_000 + i * 1000));
    await ingest.accept(METER, 'readings', TOPIC, json(again), NOW);
    const [row] = quarantined();
    expect(row?.reason).toBe('ING_SEQ_REUSED');
    expect(row?.readings).toBe(100);
    const kept = JSON.parse(row?.payload ?? '') as { seq: number; ts: number }[];
    expect(kept.map((r) => r.ts)).toEqual(again.map((r) => r.ts));
  });

  it('quarantines a reading that reuses a stored seq with a different ts or values, and acknowledges it', async () => {
    await ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(1), goodReading.meter(2)]), NOW);
    // a redelivery: a duplicate, as before
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW + 5000);
    // the device rebooted and counts from 1 again: other readings under seqs 1 and 2
    const reset = { ...goodReading.meter(1, NOW + 60_000), energyWh: 1_234_999 };
    await expect(ingest.accept(METER, 'readings', TOPIC, json(reset), NOW + 60_000)).resolves.toBeUndefined();
    await ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(2, NOW + 61_000), goodReading.meter(3, NOW + 62_000), goodReading.meter(1, NOW + 63_000)]), NOW + 63_000);
    expect(batches.flat().map((a) => [a.seq, a.ts])).toEqual([
      [1, NOW],
      [2, NOW],
      [3, NOW + 62_000],
    ]);
    const rows = quarantined();
    expect(rows.map((r) => [r.reason, r.readings, r.receivedAt])).toEqual([
      ['ING_SEQ_REUSED', 2, NOW + 63_000],
      ['ING_SEQ_REUSED', 1, NOW + 60_000],
    ]);
    expect(JSON.parse(rows[1]?.payload ?? '')).toEqual(reset);
    expect(rows[1]?.detail).toMatch(/^seq 1: already stored with a different ts or values/);
    expect((JSON.parse(rows[0]?.payload ?? '') as { seq: number }[]).map((r) => r.seq)).toEqual([2, 1]);
    expect(rows[0]?.detail).toMatch(/^2 readings, seqs 2, 1: /);
    expect(ingest.stats()).toMatchObject({ received: 7, accepted: 3, duplicates: 1 });
    expect(ingest.stats().quarantined.ING_SEQ_REUSED).toBe(3);
    expect(await store.count('m-1')).toBe(3);
  });

  it('withholds the acknowledgement of a reused seq it could not quarantine, and quarantines the redelivery', async () => {
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW);
    db.exec(`CREATE TRIGGER no_reused BEFORE INSERT ON quarantine WHEN NEW.reason = 'ING_SEQ_REUSED' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    const reset = goodReading.meter(1, NOW + 60_000);
    const results = await Promise.allSettled([
      ingest.accept(METER, 'readings', TOPIC, json(reset), NOW + 60_000),
      ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(2)), NOW + 60_000),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(((results[0] as PromiseRejectedResult).reason as DriftwatchError).code).toBe('ING_STORE_FAILED');
    db.exec(`DROP TRIGGER no_reused`);
    await ingest.accept(METER, 'readings', TOPIC, json(reset), NOW + 70_000);
    expect(quarantined().map((r) => r.reason)).toEqual(['ING_SEQ_REUSED']);
  });

  it('flags a device whose clock runs ahead', async () => {
    const other = device('m-2', 'meter');
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1, NOW + 10 * 60_000)), NOW);
    await ingest.accept(other, 'readings', 'devices/m-2/readings', json(goodReading.meter(1, NOW - 2000)), NOW);
    // 4 min ahead is within the tolerance: accepted, but the skew is visible
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(2, NOW + 4 * 60_000)), NOW);
    expect(ingest.deviceHealth('m-1')).toMatchObject({ futureTs: 1, lastSkewMs: -4 * 60_000, lastReceivedAt: NOW });
    expect(ingest.deviceHealth('m-2')).toMatchObject({ futureTs: 0, lastSkewMs: 2000 });
    expect(ingest.deviceHealth('nobody')).toBeNull();
    expect(ingest.stats()).toMatchObject({ devices: 2, clockFlagged: 1 });
    expect(batches.flat().map((a) => `${a.deviceId}/${a.seq}`)).toEqual(['m-2/1', 'm-1/2']);
  });

  it('judges the future against the platform clock', async () => {
    clock.set(NOW + 60 * 60_000); // the platform is an hour ahead of the receive stamp given
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1, NOW + 30 * 60_000)), NOW);
    expect(batches.flat()).toHaveLength(1);
  });

  it('accepts a reading 90 days old and rejects one 91 days old', async () => {
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1, NOW - 90 * DAY_MS)), NOW);
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(2, NOW - 91 * DAY_MS)), NOW);
    expect(batches.flat().map((a) => a.seq)).toEqual([1]);
    expect(quarantined().map((r) => r.reason)).toEqual(['ING_TS_TOO_OLD']);
  });

  it('commits 500 concurrent messages in a few appends', async () => {
    const n = 500;
    await Promise.all(Array.from({ length: n }, (_, i) => ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(i)), NOW)));
    expect(await store.count()).toBe(n);
    expect(store.appendCalls.length).toBeGreaterThanOrEqual(1);
    expect(store.appendCalls.length).toBeLessThanOrEqual(3);
    expect(store.appendCalls.reduce((a, b) => a + b, 0)).toBe(n);
    expect(batches.flat()).toHaveLength(n);
    expect(ingest.stats().flushes).toBe(store.appendCalls.length);
  });

  it('flushes at maxBatch without waiting for the timer', async () => {
    await ingest.close();
    ingest = make({ maxBatch: 10, groupCommitMs: 60_000 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(i)), NOW)));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(store.appendCalls).toEqual([10]);
  });

  it('rejects every waiting message when the store fails, and hands nothing on', async () => {
    store.fail = true;
    const results = await Promise.allSettled([
      ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW),
      ingest.accept(METER, 'readings', TOPIC, json([goodReading.meter(2), goodReading.meter(3)]), NOW),
      // a message with nothing to store is only quarantined, which succeeded: it resolves
      ingest.accept(METER, 'readings', TOPIC, Buffer.from('nope'), NOW),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    const reason = (results[0] as PromiseRejectedResult).reason as DriftwatchError;
    expect(reason).toBeInstanceOf(DriftwatchError);
    expect(reason.code).toBe('ING_STORE_FAILED');
    expect(batches).toEqual([]);
    expect(ingest.stats()).toMatchObject({ storeFailures: 3, accepted: 0 });
    // the redelivery after recovery goes through
    store.fail = false;
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW);
    expect(batches.flat().map((a) => a.seq)).toEqual([1]);
  });

  it('signals backpressure while the store lags, and keeps every reading', async () => {
    await ingest.close();
    ingest = make({ maxPending: 5, groupCommitMs: 1 });
    let release!: () => void;
    store.hold = new Promise((r) => (release = r));
    const first = Array.from({ length: 3 }, (_, i) => ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(i)), NOW));
    await new Promise((r) => setTimeout(r, 20)); // the first flush is now in flight, held
    expect(store.appendCalls).toEqual([3]);
    const more = Array.from({ length: 4 }, (_, i) => ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(10 + i)), NOW));
    expect(ingest.stats()).toMatchObject({ pending: 7, backpressure: true, backpressureEvents: 1 });
    store.hold = null;
    release();
    await Promise.all([...first, ...more]);
    expect(ingest.stats()).toMatchObject({ pending: 0, backpressure: false, accepted: 7 });
    expect(store.appendCalls).toEqual([3, 4]);
  });

  it('keeps the latest status per device', async () => {
    await ingest.accept(METER, 'status', 'devices/m-1/status', json({ fw: '1.0', rssi: -70 }), NOW);
    await ingest.accept(METER, 'status', 'devices/m-1/status', json({ fw: '1.1', rssi: -65 }), NOW + 1000);
    await ingest.accept(METER, 'status', 'devices/m-1/status', Buffer.from('"online"'), NOW + 2000);
    expect(ingest.deviceHealth('m-1')).toMatchObject({ status: { fw: '1.1', rssi: -65 }, statusAt: NOW + 1000 });
    expect(quarantined().map((r) => r.reason)).toEqual(['ING_STATUS_INVALID']);
  });

  it('commits what is pending on close, then refuses; close is idempotent', async () => {
    await ingest.close();
    ingest = make({ groupCommitMs: 60_000 });
    const p = ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW);
    const closing = ingest.close();
    expect(ingest.close()).toBe(closing);
    await closing;
    await expect(p).resolves.toBeUndefined();
    expect(await store.count()).toBe(1);
    await expect(ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(2)), NOW)).rejects.toMatchObject({ code: 'ING_NOT_RUNNING' });
  });

  it('refuses messages before start and does no I/O at construction', async () => {
    const fresh = createIngest({ store, quarantineDb: db, clock });
    await expect(fresh.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW)).rejects.toMatchObject({ code: 'ING_NOT_RUNNING' });
    await fresh.close();
  });

  it('a throwing listener does not stop the others', async () => {
    const seen: number[] = [];
    const off = ingest.onAccepted(() => {
      throw new Error('listener bug');
    });
    ingest.onAccepted((b) => seen.push(b.length));
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(1)), NOW);
    off();
    await ingest.accept(METER, 'readings', TOPIC, json(goodReading.meter(2)), NOW);
    expect(seen).toEqual([1, 1]);
    expect(batches.flat()).toHaveLength(2);
  });
});
