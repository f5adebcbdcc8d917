import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Accepted, Kind } from '../../ingest/readings.js';
import type { TelemetryStore } from '../../ingest/store/port.js';

export interface StoreUnderTest {
  store: TelemetryStore;
  /** closes what the factory opened and removes its data */
  cleanup: () => Promise<void>;
  /** closes the store and opens it again on the same data, when the implementation can */
  reopen?: () => Promise<TelemetryStore>;
}

/** ms; a multiple of every bucket size used below, so epoch-aligned buckets start here */
const T0 = 1_700_000_000_000;

export function reading(deviceId: string, seq: number, ts: number, fields: Record<string, number>, kind: Kind = 'meter', events: string[] = []): Accepted {
  return { deviceId, kind, region: 'SH', site: 'site-1', ts, seq, receivedAt: ts + 500, fields, events };
}

/**
 * The behaviour every TelemetryStore must show. Buckets of downsample() are aligned to the epoch:
 * a bucket covers [k·bucketMs, (k+1)·bucketMs).
 */
export function storeContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`TelemetryStore contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: TelemetryStore;

    beforeEach(async () => {
      sut = await makeStore();
      store = sut.store;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    it('append reports new readings new and redeliveries duplicate', async () => {
      const a = reading('m-1', 1, T0, { energyWh: 10, powerW: 1 });
      const b = reading('m-1', 2, T0 + 1000, { energyWh: 11, powerW: 1 });
      expect(await store.append([a, b])).toEqual(['new', 'new']);
      // a redelivery arrives later: its receive time is not part of the reading
      expect(await store.append([{ ...b, receivedAt: b.receivedAt + 60_000 }, reading('m-1', 3, T0 + 2000, { energyWh: 12, powerW: 1 })])).toEqual(['duplicate', 'new']);
      // the same seq of another device is a different reading
      expect(await store.append([reading('m-2', 1, T0, { energyWh: 5, powerW: 2 })])).toEqual(['new']);
      expect(await store.count()).toBe(4);
      expect(await store.count('m-1')).toBe(3);
      expect(await store.count('nobody')).toBe(0);
    });

    it('inside one batch a reading is judged against those before it', async () => {
      const a = reading('m-1', 7, T0, { energyWh: 10, powerW: 1 });
      const b = reading('m-1', 8, T0 + 1000, { energyWh: 11, powerW: 1 });
      expect(await store.append([a, { ...a }, b, { ...b, fields: { energyWh: 99, powerW: 9 } }])).toEqual(['new', 'duplicate', 'new', 'conflict']);
      const rows = await store.range('m-1', 'meter', { from: T0, to: T0 + 2000, limit: 10 });
      expect(rows.map((r) => r.fields.energyWh)).toEqual([10, 11]);
    });

    it('a different reading under a stored seq is a conflict and is not stored; the same one is a duplicate', async () => {
      // what a device that reset its counter after a reboot sends
      const a = reading('m-1', 1, T0, { energyWh: 10, powerW: 1 }, 'meter', ['cover_open']);
      const before = store.stats().readings;
      expect(await store.append([a])).toEqual(['new']);
      expect(await store.append([{ ...a, receivedAt: a.receivedAt + 3_600_000 }])).toEqual(['duplicate']);
      expect(await store.append([{ ...a, fields: { powerW: 1, energyWh: 10 } }])).toEqual(['duplicate']); // the order of fields is no difference
      expect(await store.append([{ ...a, ts: T0 + 1000 }])).toEqual(['conflict']);
      expect(await store.append([{ ...a, fields: { energyWh: 10, powerW: 2 } }])).toEqual(['conflict']);
      expect(await store.append([{ ...a, fields: { energyWh: 10, powerW: 1, voltageV: 230 } }])).toEqual(['conflict']);
      expect(await store.append([{ ...a, fields: { energyWh: 10 } }])).toEqual(['conflict']);
      expect(await store.append([{ ...a, events: [] }])).toEqual(['conflict']);
      expect(await store.append([{ ...a, ts: T0 + 5000 }, reading('m-1', 2, T0 + 1000, { energyWh: 11, powerW: 1 }), a])).toEqual(['conflict', 'new', 'duplicate']);
      expect(await store.count('m-1')).toBe(2);
      expect(store.stats().readings - before).toBe(2);
      const rows = await store.range('m-1', 'meter', { from: T0, to: T0 + 10_000, limit: 10 });
      expect(rows.map((r) => [r.seq, r.ts, r.fields, r.events])).toEqual([
        [1, T0, { energyWh: 10, powerW: 1 }, ['cover_open']],
        [2, T0 + 1000, { energyWh: 11, powerW: 1 }, []],
      ]);
    });

    it('append of nothing resolves to nothing', async () => {
      expect(await store.append([])).toEqual([]);
      expect(await store.count()).toBe(0);
    });

    it('range returns one device, ordered by ts, from inclusive, to exclusive, limited', async () => {
      // inserted out of order on purpose
      const seqs = [5, 2, 9, 1, 7, 3];
      await store.append(seqs.map((s) => reading('m-1', s, T0 + s * 1000, { energyWh: s * 10, powerW: s, voltageV: 230 + s }, 'meter', s === 9 ? ['cover_open', 'magnetic'] : [])));
      await store.append([reading('m-2', 4, T0 + 4000, { energyWh: 1, powerW: 1 })]);

      const all = await store.range('m-1', 'meter', { from: T0, to: T0 + 100_000, limit: 100 });
      expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 5, 7, 9]);
      expect(all[0]).toEqual({ ts: T0 + 1000, seq: 1, receivedAt: T0 + 1500, fields: { energyWh: 10, powerW: 1, voltageV: 231 }, events: [] });
      expect(all.at(-1)?.events).toEqual(['cover_open', 'magnetic']);

      const window = await store.range('m-1', 'meter', { from: T0 + 2000, to: T0 + 7000, limit: 100 });
      expect(window.map((r) => r.seq)).toEqual([2, 3, 5]);
      const limited = await store.range('m-1', 'meter', { from: T0, to: T0 + 100_000, limit: 2 });
      expect(limited.map((r) => r.seq)).toEqual([1, 2]);
      expect(await store.range('m-1', 'meter', { from: T0 + 100_000, to: T0 + 200_000, limit: 10 })).toEqual([]);
    });

    it('range keeps fractional and large values exactly', async () => {
      const fields = { energyWh: 9_876_543_210.125, powerW: 0.1 + 0.2, currentA: 1e-9 };
      await store.append([reading('m-1', 1, T0, fields)]);
      const [row] = await store.range('m-1', 'meter', { from: T0, to: T0 + 1, limit: 1 });
      expect(row?.fields).toEqual(fields);
    });

    it('downsample gives count, mean, min and max per epoch-aligned bucket', async () => {
      // 10 readings 1 s apart: buckets of 5 s hold seq 0–4 and 5–9
      const rs: Accepted[] = [];
      for (let i = 0; i < 10; i++) {
        const fields: Record<string, number> = { energyWh: 1000 + i, powerW: i * i };
        if (i >= 5) fields.voltageV = 220 + i; // absent from the first bucket
        rs.push(reading('m-1', i, T0 + i * 1000, fields));
      }
      await store.append(rs);
      await store.append([reading('m-2', 1, T0, { energyWh: 1e6, powerW: 1e6 })]);

      const b = await store.downsample('m-1', 'meter', { from: T0, to: T0 + 10_000, limit: 100, bucketMs: 5000 });
      expect(b).toHaveLength(2);
      expect(b[0]?.ts).toBe(T0);
      expect(b[0]?.count).toBe(5);
      expect(b[0]?.mean.energyWh).toBeCloseTo(1002, 9);
      expect(b[0]?.min.powerW).toBe(0);
      expect(b[0]?.max.powerW).toBe(16);
      expect(b[0]?.mean.powerW).toBeCloseTo((0 + 1 + 4 + 9 + 16) / 5, 9);
      expect(b[0]?.mean).not.toHaveProperty('voltageV');
      expect(b[1]?.ts).toBe(T0 + 5000);
      expect(b[1]?.count).toBe(5);
      expect(b[1]?.mean.voltageV).toBeCloseTo(227, 9);
      expect(b[1]?.min.voltageV).toBe(225);
      expect(b[1]?.max.voltageV).toBe(229);

      // a window starting mid-bucket still buckets on the epoch grid, and to is exclusive
      const mid = await store.downsample('m-1', 'meter', { from: T0 + 3000, to: T0 + 9000, limit: 100, bucketMs: 5000 });
      expect(mid.map((x) => [x.ts, x.count])).toEqual([
        [T0, 2],
        [T0 + 5000, 4],
      ]);
      const one = await store.downsample('m-1', 'meter', { from: T0, to: T0 + 10_000, limit: 1, bucketMs: 1000 });
      expect(one).toHaveLength(1);
      expect(one[0]?.count).toBe(1);
    });

    it('downsample works for every kind over its own fields', async () => {
      await store.append([
        reading('d-1', 1, T0, { nozzle: 1, volumeL: 40, totalizerL: 1000, pulses: 4000, temperatureC: 15 }, 'dispenser'),
        reading('d-1', 2, T0 + 1000, { nozzle: 1, volumeL: 20, totalizerL: 1020, pulses: 2000, temperatureC: 17 }, 'dispenser'),
        reading('t-1', 1, T0, { levelMm: 1500, volumeL: 20_000, temperatureC: 14 }, 'tank'),
        reading('s-1', 1, T0, { zeroKg: 0.002, checkRefKg: 10, checkIndicatedKg: 10.005 }, 'scale'),
      ]);
      const [d] = await store.downsample('d-1', 'dispenser', { from: T0, to: T0 + 60_000, limit: 10, bucketMs: 60_000 });
      expect(d?.count).toBe(2);
      expect(d?.mean.volumeL).toBeCloseTo(30, 9);
      expect(d?.max.totalizerL).toBe(1020);
      const [t] = await store.downsample('t-1', 'tank', { from: T0, to: T0 + 60_000, limit: 10, bucketMs: 60_000 });
      expect(t?.mean).toEqual({ levelMm: 1500, volumeL: 20_000, temperatureC: 14 });
      const [s] = await store.downsample('s-1', 'scale', { from: T0, to: T0 + 60_000, limit: 10, bucketMs: 60_000 });
      expect(s?.max.checkIndicatedKg).toBeCloseTo(10.005, 12);
    });

    it('stats count stored readings', async () => {
      const before = store.stats().readings;
      await store.append([reading('m-1', 1, T0, { energyWh: 1, powerW: 1 }), reading('m-1', 2, T0 + 1, { energyWh: 1, powerW: 1 })]);
      await store.append([reading('m-1', 2, T0 + 1, { energyWh: 1, powerW: 1 })]);
      const s = store.stats();
      expect(s.readings - before).toBe(2);
      expect(s.pending).toBeGreaterThanOrEqual(0);
      expect(s.failed).toBe(0);
    });

    it('close is idempotent', async () => {
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });

    it('appended readings survive a reopen', async (ctx) => {
      if (!sut.reopen) return ctx.skip();
      await store.append([reading('m-1', 1, T0, { energyWh: 42, powerW: 3 }), reading('m-1', 2, T0 + 1000, { energyWh: 43, powerW: 3 })]);
      store = await sut.reopen();
      expect(await store.count('m-1')).toBe(2);
      expect(store.stats().readings).toBe(2);
      const rows = await store.range('m-1', 'meter', { from: T0, to: T0 + 2000, limit: 10 });
      expect(rows.map((r) => r.fields.energyWh)).toEqual([42, 43]);
      // deduplication holds across the reopen, and so does telling a reused seq from a redelivery
      expect(await store.append([reading('m-1', 2, T0 + 1000, { energyWh: 43, powerW: 3 })])).toEqual(['duplicate']);
      expect(await store.append([reading('m-1', 2, T0 + 1000, { energyWh: 44, powerW: 3 })])).toEqual(['conflict']);
    });
  });
}
