import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../lib/sqlite.js';
import { createQuarantine, type QuarantineEntry } from '../../ingest/quarantine.js';
import type { RejectReason } from '../../ingest/errors.js';
import type { Region } from '../../ingest/readings.js';

const entry = (i: number, reason: RejectReason = 'ING_SCHEMA_INVALID', deviceId = 'm-1', region: Region = 'SH'): QuarantineEntry => ({
  deviceId,
  region,
  topic: `devices/${deviceId}/readings`,
  payload: Buffer.from(`{"n":${i}}`),
  reason,
  detail: `entry ${i}`,
  receivedAt: 1_700_000_000_000 + i,
});

describe('quarantine', () => {
  let dir: string;
  let file: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dw-q-'));
    file = join(dir, 'platform.db');
    db = openDb(file);
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most maxRows, dropping the oldest', () => {
    const q = createQuarantine({ db, maxRows: 10 });
    q.start();
    for (let i = 0; i < 25; i += 5) q.add([0, 1, 2, 3, 4].map((k) => entry(i + k)));
    const { n } = db.prepare('SELECT count(*) AS n FROM quarantine').get() as { n: number };
    expect(n).toBe(10);
    const { items } = q.list({ limit: 100 });
    expect(items.map((r) => r.detail)).toEqual(Array.from({ length: 10 }, (_, k) => `entry ${24 - k}`));
    // counters count every quarantined reading, not only the rows kept
    expect(q.counts().ING_SCHEMA_INVALID).toBe(25);
  });

  it('pages newest first with a cursor and filters by device, reason and region', () => {
    const q = createQuarantine({ db });
    q.start();
    q.add(Array.from({ length: 9 }, (_, i) => entry(i, i % 3 === 0 ? 'ING_VALUE_ABSURD' : 'ING_SCHEMA_INVALID', i % 2 ? 'm-1' : 'm-2', i < 6 ? 'SH' : 'JS')));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const p = q.list({ limit: 4, cursor });
      seen.push(...p.items.map((r) => r.detail));
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 9 }, (_, k) => `entry ${8 - k}`));
    expect(q.list({ limit: 100, reason: 'ING_VALUE_ABSURD' }).items.map((r) => r.detail)).toEqual(['entry 6', 'entry 3', 'entry 0']);
    expect(q.list({ limit: 100, deviceId: 'm-1' }).items).toHaveLength(4);
    expect(q.list({ limit: 100, regions: ['JS'] }).items.map((r) => r.region)).toEqual(['JS', 'JS', 'JS']);
    expect(q.list({ limit: 100, regions: [] }).items).toEqual([]);
    expect(q.list({ limit: 100, regions: ['SH'], reason: 'ING_VALUE_ABSURD', deviceId: 'm-2' }).items.map((r) => r.detail)).toEqual(['entry 0']);
  });

  it('truncates payloads to 1 KiB and remembers their size', () => {
    const q = createQuarantine({ db });
    q.start();
    q.add([{ ...entry(1), payload: Buffer.alloc(5000, 0x61) }]);
    const [row] = q.list({ limit: 1 }).items;
    expect(row?.payload).toBe('a'.repeat(1024));
    expect(row?.payloadBytes).toBe(5000);
  });

  it('seeds its counters from the table at start', () => {
    const q1 = createQuarantine({ db });
    q1.start();
    q1.add([entry(1, 'ING_TS_FUTURE'), entry(2, 'ING_TS_FUTURE'), entry(3, 'ING_JSON_MALFORMED')]);
    q1.close();
    db.close();
    db = openDb(file);
    const q2 = createQuarantine({ db });
    expect(q2.counts().ING_TS_FUTURE).toBe(0); // nothing read before start
    q2.start();
    expect(q2.counts()).toMatchObject({ ING_TS_FUTURE: 2, ING_JSON_MALFORMED: 1, ING_SCHEMA_INVALID: 0 });
  });

  it("keeps a device's flood to that device's own rows: another device's record survives", () => {
    const q = createQuarantine({ db, maxRows: 50, maxRowsPerDevice: 10 });
    q.start();
    q.add([entry(0, 'ING_TS_FUTURE', 'm-a')]);
    for (let i = 1; i <= 500; i += 5) q.add([0, 1, 2, 3, 4].map((k) => entry(i + k, 'ING_SCHEMA_INVALID', 'm-b')));
    expect(q.list({ limit: 100, deviceId: 'm-a' }).items.map((r) => r.detail)).toEqual(['entry 0']);
    // the flooding device keeps its newest rows
    expect(q.list({ limit: 100, deviceId: 'm-b' }).items.map((r) => r.detail)).toEqual(Array.from({ length: 10 }, (_, k) => `entry ${500 - k}`));
    expect(db.prepare('SELECT count(*) FROM quarantine').pluck().get()).toBe(11);
    expect(q.counts()).toMatchObject({ ING_TS_FUTURE: 1, ING_SCHEMA_INVALID: 500 });
  });

  it('keeps at most maxRows across devices, the oldest rows going first', () => {
    const q = createQuarantine({ db, maxRows: 10, maxRowsPerDevice: 5 });
    q.start();
    let i = 0;
    for (const d of ['m-1', 'm-2', 'm-3', 'm-4']) q.add(Array.from({ length: 5 }, () => entry(i++, 'ING_SCHEMA_INVALID', d)));
    expect(q.list({ limit: 100 }).items.map((r) => r.detail)).toEqual(Array.from({ length: 10 }, (_, k) => `entry ${19 - k}`));
    // a device's own trim leaves room that the table cap does not take from others
    q.add(Array.from({ length: 5 }, () => entry(i++, 'ING_SCHEMA_INVALID', 'm-4')));
    expect(q.list({ limit: 100, deviceId: 'm-3' }).items).toHaveLength(5);
    expect(q.list({ limit: 100, deviceId: 'm-4' }).items.map((r) => r.detail)).toEqual(Array.from({ length: 5 }, (_, k) => `entry ${24 - k}`));
  });

  it('keeps the count of readings a row stands for, and counts readings', () => {
    const q = createQuarantine({ db });
    q.start();
    q.add([{ ...entry(1), readings: 7 }, entry(2)]);
    expect(q.list({ limit: 10 }).items.map((r) => r.readings)).toEqual([1, 7]);
    expect(q.counts().ING_SCHEMA_INVALID).toBe(8);
    q.close();
    const again = createQuarantine({ db });
    again.start();
    expect(again.counts().ING_SCHEMA_INVALID).toBe(8);
  });

  it('takes over a table from before rows carried a count, each old row one reading', () => {
    db.exec(`CREATE TABLE quarantine (
      id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, region TEXT NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL,
      payload_bytes INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, received_at INTEGER NOT NULL)`);
    db.prepare(`INSERT INTO quarantine (device_id, region, topic, payload, payload_bytes, reason, detail, received_at) VALUES ('m-1', 'SH', 't', x'7b7d', 2, 'ING_VALUE_ABSURD', 'old', 1)`).run();
    const q = createQuarantine({ db });
    q.start();
    q.add([{ ...entry(1), readings: 3 }]);
    expect(q.list({ limit: 10 }).items.map((r) => [r.detail, r.readings])).toEqual([
      ['entry 1', 3],
      ['old', 1],
    ]);
    expect(q.counts()).toMatchObject({ ING_VALUE_ABSURD: 1, ING_SCHEMA_INVALID: 3 });
  });
});
