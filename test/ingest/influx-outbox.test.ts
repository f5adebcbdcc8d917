import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../../ingest/store/influx/outbox.js';
import { openDb } from '../../lib/sqlite.js';

const line = (i: number) => `m,device=d value=${i}`;

describe('the InfluxDB outbox deduplication index', () => {
  it('recognises a redelivery for one window at least, holds at most two windows, and keeps its counts across a reopen', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'driftwatch-outbox-')), 'outbox.db');
    let now = 1_000_000;
    const open = () => Outbox.open(openDb(file), { dedupWindowMs: 1000, now: () => now });
    let ob = open();
    const put = (seq: number) => ob.append([{ deviceId: 'd', seq, ts: seq, digest: seq }], line)[0];

    expect(put(1)).toBe('new');
    now += 600;
    expect(put(1)).toBe('duplicate'); // same window
    expect(put(2)).toBe('new');
    now += 600; // the window turns: seq 1 and 2 move to the old generation
    expect(put(1)).toBe('duplicate');
    expect(put(3)).toBe('new');
    expect(ob.deduplicationRows()).toBe(3);

    ob = open(); // a restart keeps the index, its age and the counts
    expect(ob.deduplicationRows()).toBe(3);
    expect(put(2)).toBe('duplicate');
    now += 1000; // turns again: 1 and 2 are forgotten, 3 is old
    expect(put(3)).toBe('duplicate');
    expect(ob.deduplicationRows()).toBe(1);
    // the retired generation is not dropped at the turn (that would stall ingest on a large
    // fleet) but deleted a chunk per append: here the first append after the turn empties it
    const peek = openDb(file);
    expect(peek.prepare('SELECT count(*) FROM influx_seen_trash').pluck().get()).toBe(0);
    peek.close();
    expect(put(1)).toBe('new'); // beyond two windows: written again (InfluxDB overwrites the same point)
    expect(ob.stats().accepted).toBe(4);
    expect(ob.stats().pending).toBe(4);
    now += 5000; // down for several windows: both generations are out of date
    expect(put(3)).toBe('new');
    expect(ob.deduplicationRows()).toBe(1);
  });

  it('deletes a retired generation a bounded chunk per append', () => {
    const db = openDb(':memory:');
    let now = 0;
    const ob = Outbox.open(db, { dedupWindowMs: 1000, now: () => now });
    for (let seq = 1; seq <= 600; seq++) ob.append([{ deviceId: 'd', seq, ts: seq, digest: seq }], line);
    now += 1000;
    ob.append([{ deviceId: 'e', seq: 1, ts: 1, digest: 1 }], line); // the 600 become the old generation
    now += 1000;
    const trash = () => db.prepare('SELECT count(*) FROM influx_seen_trash').pluck().get();
    const left: unknown[] = [];
    for (let seq = 2; seq <= 5; seq++) {
      ob.append([{ deviceId: 'e', seq, ts: seq, digest: seq }], line); // the first of these retires them
      left.push(trash());
    }
    expect(left).toEqual([344, 88, 0, 0]);
  });

  it('tells a reused seq (another ts or digest) from a redelivery, in both generations, and queues neither', () => {
    const db = openDb(':memory:');
    let now = 0;
    const ob = Outbox.open(db, { dedupWindowMs: 1000, now: () => now });
    const put = (ts: number, digest: number, seq = 1) => ob.append([{ deviceId: 'd', seq, ts, digest }], line)[0];
    expect(put(10, 111)).toBe('new');
    expect(put(10, 111)).toBe('duplicate');
    expect(put(11, 111)).toBe('conflict');
    expect(put(10, 112)).toBe('conflict');
    now += 1000; // seq 1 moves to the old generation
    expect(put(10, 111)).toBe('duplicate');
    expect(put(10, 112)).toBe('conflict');
    expect(ob.append([{ deviceId: 'd', seq: 2, ts: 20, digest: 2 }, { deviceId: 'd', seq: 2, ts: 21, digest: 2 }, { deviceId: 'd', seq: 2, ts: 20, digest: 2 }], line)).toEqual(['new', 'conflict', 'duplicate']);
    expect(ob.stats()).toMatchObject({ accepted: 2, pending: 2 });
  });

  it('takes over an index from before the digest, comparing its rows by ts alone', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'driftwatch-outbox-')), 'outbox.db');
    const old = openDb(file);
    for (const t of ['influx_seen', 'influx_seen_old', 'influx_seen_trash']) {
      old.exec(`CREATE TABLE ${t} (device_id TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (device_id, seq)) WITHOUT ROWID`);
    }
    old.exec(`INSERT INTO influx_seen VALUES ('d', 1, 10)`);
    old.close();
    const ob = Outbox.open(openDb(file), { now: () => 0 });
    expect(ob.append([{ deviceId: 'd', seq: 1, ts: 10, digest: 5 }], line)).toEqual(['duplicate']);
    expect(ob.append([{ deviceId: 'd', seq: 1, ts: 11, digest: 5 }], line)).toEqual(['conflict']);
    expect(ob.append([{ deviceId: 'd', seq: 2, ts: 20, digest: 6 }, { deviceId: 'd', seq: 2, ts: 20, digest: 7 }], line)).toEqual(['new', 'conflict']);
  });
});
