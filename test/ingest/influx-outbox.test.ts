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
    const put = (seq: number) => ob.append([{ deviceId: 'd', seq, ts: seq }], line)[0];

    expect(put(1)).toBe(true);
    now += 600;
    expect(put(1)).toBe(false); // same window
    expect(put(2)).toBe(true);
    now += 600; // the window turns: seq 1 and 2 move to the old generation
    expect(put(1)).toBe(false);
    expect(put(3)).toBe(true);
    expect(ob.deduplicationRows()).toBe(3);

    ob = open(); // a restart keeps the index, its age and the counts
    expect(ob.deduplicationRows()).toBe(3);
    expect(put(2)).toBe(false);
    now += 1000; // turns again: 1 and 2 are forgotten, 3 is old
    expect(put(3)).toBe(false);
    expect(ob.deduplicationRows()).toBe(1);
    // the retired generation is not dropped at the turn (that would stall ingest on a large
    // fleet) but deleted a chunk per append: here the first append after the turn empties it
    const peek = openDb(file);
    expect(peek.prepare('SELECT count(*) FROM influx_seen_trash').pluck().get()).toBe(0);
    peek.close();
    expect(put(1)).toBe(true); // beyond two windows: written again (InfluxDB overwrites the same point)
    expect(ob.stats().accepted).toBe(4);
    expect(ob.stats().pending).toBe(4);
    now += 5000; // down for several windows: both generations are out of date
    expect(put(3)).toBe(true);
    expect(ob.deduplicationRows()).toBe(1);
  });

  it('deletes a retired generation a bounded chunk per append', () => {
    const db = openDb(':memory:');
    let now = 0;
    const ob = Outbox.open(db, { dedupWindowMs: 1000, now: () => now });
    for (let seq = 1; seq <= 600; seq++) ob.append([{ deviceId: 'd', seq, ts: seq }], line);
    now += 1000;
    ob.append([{ deviceId: 'e', seq: 1, ts: 1 }], line); // the 600 become the old generation
    now += 1000;
    const trash = () => db.prepare('SELECT count(*) FROM influx_seen_trash').pluck().get();
    const left: unknown[] = [];
    for (let seq = 2; seq <= 5; seq++) {
      ob.append([{ deviceId: 'e', seq, ts: seq }], line); // the first of these retires them
      left.push(trash());
    }
    expect(left).toEqual([344, 88, 0, 0]);
  });
});
