import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.js';
import type { TelemetryStore } from '../../ingest/store/port.js';
import { reading, storeContract } from './store-contract.js';

storeContract('sqlite (file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-store-'));
  const file = join(dir, 'readings.db');
  let store: TelemetryStore = SqliteTelemetryStore.open({ file });
  return {
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = SqliteTelemetryStore.open({ file });
      return store;
    },
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteTelemetryStore specifics', () => {
  it('leaves a database it was handed open on close', async () => {
    const db = openDb(':memory:');
    const store = SqliteTelemetryStore.open({ db });
    await store.close();
    expect(db.open).toBe(true);
    await expect(store.append([reading('m-1', 1, 1.7e12, { energyWh: 1, powerW: 1 })])).rejects.toThrow(/closed/);
    db.close();
  });

  it('rejects a failed append and counts it, without storing part of the batch', async () => {
    const db = openDb(':memory:');
    const store = SqliteTelemetryStore.open({ db });
    db.exec(`CREATE TRIGGER no_m3 BEFORE INSERT ON readings WHEN NEW.device_id = 'm-3' BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    await expect(store.append([reading('m-1', 1, 1.7e12, { energyWh: 1, powerW: 1 }), reading('m-3', 1, 1.7e12, { energyWh: 1, powerW: 1 })])).rejects.toThrow(/refused/);
    expect(await store.count()).toBe(0);
    expect(store.stats()).toEqual({ readings: 0, pending: 0, failed: 2 });
    await store.close();
    db.close();
  });

  it('rejects a bucket size below 1 ms', async () => {
    const db = openDb(':memory:');
    const store = SqliteTelemetryStore.open({ db });
    await expect(store.downsample('m-1', 'meter', { from: 0, to: 1, limit: 1, bucketMs: 0 })).rejects.toThrow(RangeError);
    await store.close();
    db.close();
  });
});
