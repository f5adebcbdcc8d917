import { describe, expect, it } from 'vitest';
import { createAnalytics } from '../../analytics/engine.js';
import { buildFleet } from '../../devices-sim/fleet.js';
import { createFleetState, simulate } from '../../devices-sim/generator.js';
import type { Accepted } from '../../ingest/readings.js';
import { ManualClock } from '../../lib/clock.js';
import { openDb } from '../../lib/sqlite.js';
import type { Device } from '../../registry/registry.js';
import { accepted, DAY, deviceOf } from './station-sim.js';

const scenario = {
  seed: 5,
  days: 30,
  start: '2025-05-01',
  areas: { count: 1, metersPerArea: [30, 30] as [number, number], intervalMin: 60, lossPct: [3, 6] as [number, number] },
  stations: { count: 0, tanksPerStation: 1, nozzlesPerTank: 1, txPerNozzlePerDay: 1 },
  markets: { count: 0, scalesPerMarket: 1, checksPerDay: 1 },
  faults: [],
};

/**
 * One healthy area, with one meter's readings rewritten on the way in (`rewrite`): the platform
 * must see through a device clock that is wrong, and must not take a device's late (buffered)
 * readings for a wrong clock.
 */
function run(rewrite: (r: Accepted) => Accepted | null, late: Accepted[] = []) {
  const fleet = buildFleet(scenario, Date.UTC(2026, 0, 1));
  const devices = fleet.devices.map(deviceOf);
  const clock = new ManualClock(fleet.startMs);
  const an = createAnalytics({ db: openDb(':memory:'), clock, devicesOfSite: () => devices as Device[] });
  const st = createFleetState(fleet);
  const target = fleet.areas[0]!.customers[3]!.id;
  for (let t = fleet.startMs; t < fleet.endMs; t += DAY / 4) {
    const batch: Accepted[] = [];
    simulate(st, t, t + DAY / 4, (d, r, trueMs) => {
      const a = accepted(d, r, trueMs);
      const b = a.deviceId === target ? rewrite(a) : a;
      if (b) batch.push(b);
    });
    if (t + DAY / 4 === fleet.startMs + 20 * DAY) batch.push(...late.splice(0).map((r) => ({ ...r, receivedAt: t + DAY / 4 })));
    clock.set(t + DAY / 4);
    an.ingest(batch);
    an.flush();
  }
  return { state: an.state(target)!, target };
}

describe('device clocks', () => {
  it('corrects a clock that runs 13 minutes behind, so the balance sees the meter as it is', () => {
    const honest = run((r) => r);
    const behind = run((r) => ({ ...r, ts: r.ts - 800_000 }));
    expect(behind.state.skewMs).toBe(-800_000);
    expect(honest.state.skewMs).toBe(0);
    // the corrected series gives the estimate the honest clock gives
    expect(Math.abs(behind.state.ratio - honest.state.ratio)).toBeLessThan(0.05);
    // and the clock adds a data-quality reason to watch it, nothing more
    const codes = (s: typeof honest.state) => s.reasons.map((r) => r.code).filter((c) => c !== 'healthy').sort();
    expect(codes(behind.state)).toEqual([...codes(honest.state), 'clock_skew'].sort());
    expect(['A', 'B']).toContain(behind.state.grade);
  });

  it('corrects a clock lagging by more than a late delivery would, once sixteen live readings agree on it', () => {
    const honest = run((r) => r);
    // 50 minutes behind from day 10 on, beyond the backfill bound: set aside as late readings
    // until sixteen of them, received as they were produced, agree on the lag
    const from = Date.UTC(2025, 4, 11);
    const behind = run((r) => (r.receivedAt >= from ? { ...r, ts: r.ts - 3_000_000 } : r));
    expect(behind.state.skewMs).toBe(-3_000_000);
    expect(behind.state.reasons.map((r) => r.code)).toContain('clock_skew');
    // the sixteen hours before the lag is recognised leave a trace (a large meter, a tenth of its
    // area) well inside the MPE; uncorrected, the same lag put it at many times the MPE
    expect(behind.state.grade).not.toBe('D');
    expect(Math.abs(behind.state.ratio - honest.state.ratio)).toBeLessThan(0.75);
  });

  it('follows an inferred lag that changes, and gives it up when the clock is right again', () => {
    const d10 = Date.UTC(2025, 4, 11);
    const d20 = Date.UTC(2025, 4, 21);
    const d25 = Date.UTC(2025, 4, 26);
    const slipping = run((r) => (r.receivedAt >= d20 ? { ...r, ts: r.ts - 10_800_000 } : r.receivedAt >= d10 ? { ...r, ts: r.ts - 3_000_000 } : r));
    expect(slipping.state.skewMs).toBe(-10_800_000);
    const fixed = run((r) => (r.receivedAt >= d10 && r.receivedAt < d25 ? { ...r, ts: r.ts - 3_000_000 } : r));
    expect(fixed.state.skewMs).toBe(0);
  });

  it('takes readings sent a day late, after an outage, for what they are: no clock error', () => {
    const held: Accepted[] = [];
    const from = Date.UTC(2025, 4, 15);
    const to = from + DAY;
    const out = run((r) => {
      if (r.ts > from && r.ts <= to) {
        held.push(r);
        return null;
      }
      return r;
    }, held);
    expect(out.state.skewMs).toBe(0);
    expect(Math.abs(out.state.ratio)).toBeLessThan(0.5);
  });
});
