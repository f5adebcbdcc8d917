import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAnalytics } from '../../analytics/engine.js';
import { warmUp } from '../../analytics/replay.js';
import { createTruth } from '../../devices-sim/truth.js';
import { buildFleet } from '../../devices-sim/fleet.js';
import { createFleetState, simulate } from '../../devices-sim/generator.js';
import type { Accepted } from '../../ingest/readings.js';
import { SqliteTelemetryStore } from '../../ingest/store/sqlite.js';
import { ManualClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { openDb } from '../../lib/sqlite.js';
import type { Device } from '../../registry/registry.js';
import { accepted, deviceOf } from './station-sim.js';

const DAY = 86_400_000;
const scenario = {
  seed: 11,
  days: 40,
  start: '2025-03-01',
  areas: { count: 2, metersPerArea: [25, 35] as [number, number], intervalMin: 60, lossPct: [3, 6] as [number, number] },
  stations: { count: 1, tanksPerStation: 1, nozzlesPerTank: 2, txPerNozzlePerDay: 60 },
  markets: { count: 1, scalesPerMarket: 4, checksPerDay: 4 },
  faults: [
    { kind: 'meter' as const, type: 'tamper' as const, count: 1, startDay: [8, 12] as [number, number] },
    { kind: 'meter' as const, type: 'stuck' as const, count: 1, startDay: [26, 30] as [number, number] },
    { kind: 'scale' as const, type: 'tamper' as const, count: 1, startDay: [25, 28] as [number, number] },
  ],
};

/** Generates the whole scenario once, in 6-hour slices of arrival order. */
function generate() {
  const fleet = buildFleet(scenario, Date.UTC(2026, 0, 1));
  const devices = fleet.devices.map(deviceOf);
  const bySite = new Map<string, Device[]>();
  for (const d of devices) bySite.set(d.site, [...(bySite.get(d.site) ?? []), d]);
  const slices: { to: number; batch: Accepted[] }[] = [];
  const st = createFleetState(fleet);
  for (let t = fleet.startMs; t < fleet.endMs; t += DAY / 4) {
    const batch: Accepted[] = [];
    simulate(st, t, t + DAY / 4, (d, r, trueMs) => batch.push(accepted(d, r, trueMs)));
    slices.push({ to: t + DAY / 4, batch });
  }
  return { fleet, devices, bySite, slices };
}

describe('analytics restart safety', () => {
  it('a restart with replay from the store ends where an uninterrupted run ends, raising nothing twice', async () => {
    const { fleet, devices, bySite, slices } = generate();
    // an inspector tests a meter on day 15 (it reads +1.5 %, 0.75 MPE) and the result is recorded
    // that day: a restart must start the meter's state from it so the replay fuses as live did
    const truth = createTruth(fleet);
    const tested = fleet.areas[0]!.customers.find((d) => truth.faultsOf(d.id).length === 0)!.id;
    const test = { at: fleet.startMs + 15 * DAY, error: 0.015, mpe: 0.02 };
    const make = (db: ReturnType<typeof openDb>, clock: ManualClock, restarted = false) =>
      createAnalytics({ db, clock, devicesOfSite: (s) => bySite.get(s) ?? [], history: true, ...(restarted ? { verificationOf: (id: string) => (id === tested ? test : undefined) } : {}) });
    const record = (x: ReturnType<typeof make>, s: { to: number }) => {
      if (s.to === test.at) expect(x.recordVerification(tested, test)).not.toBeNull();
    };

    // uninterrupted
    const clockA = new ManualClock(fleet.startMs);
    const a = make(openDb(':memory:'), clockA);
    for (const s of slices) {
      clockA.set(s.to);
      a.ingest(s.batch);
      a.flush();
      record(a, s);
    }

    // interrupted at day 20: the process dies, the store and the analytics database survive
    const dir = mkdtempSync(join(tmpdir(), 'driftwatch-restart-'));
    const store = SqliteTelemetryStore.open({ file: join(dir, 'telemetry.db') });
    const dbFile = join(dir, 'analytics.db');
    const clockB = new ManualClock(fleet.startMs);
    let b = make(openDb(dbFile), clockB);
    const cut = fleet.startMs + 20 * DAY;
    for (const s of slices.filter((x) => x.to <= cut)) {
      clockB.set(s.to);
      await store.append(s.batch);
      b.ingest(s.batch);
      b.flush();
      record(b, s);
    }
    const alertsBefore = b.alerts.list({ limit: 1000 }).items.length;
    expect(alertsBefore).toBeGreaterThan(0); // the tamper at day 8–12 was seen before the crash
    b = make(openDb(dbFile), clockB, true);
    const warm = await warmUp({ analytics: b, store, devices, fromMs: fleet.startMs - DAY, toMs: cut + DAY, logger: silentLogger });
    expect(warm.readings).toBe(slices.filter((x) => x.to <= cut).reduce((n, s) => n + s.batch.length, 0));
    expect(b.alerts.list({ limit: 1000 }).items.length).toBe(alertsBefore); // nothing raised twice
    for (const s of slices.filter((x) => x.to > cut)) {
      clockB.set(s.to);
      await store.append(s.batch);
      b.ingest(s.batch);
      b.flush();
    }

    const key = (x: { deviceId: string; type: string }) => `${x.deviceId}|${x.type}`;
    const alertsA = a.alerts.list({ limit: 1000 }).items.map(key).sort();
    const alertsB = b.alerts.list({ limit: 1000 }).items.map(key).sort();
    expect(alertsB).toEqual(alertsA);
    const ordersA = a.orders.list({ limit: 100 }).items.map((o) => o.deviceId).sort();
    expect(b.orders.list({ limit: 100 }).items.map((o) => o.deviceId).sort()).toEqual(ordersA);
    expect(ordersA.length).toBeGreaterThanOrEqual(2); // meter tamper and scale cheat chip at least
    let same = 0;
    for (const d of devices) if (a.grade(d.id) === b.grade(d.id)) same++;
    expect(same).toBe(devices.length);
    // the tested meter's state carries the test after the restart exactly as without one
    const [sa, sb] = [a.state(tested)!, b.state(tested)!];
    expect(sa.verified).not.toBeNull();
    expect(sb.verified).toEqual(sa.verified);
    expect(sb.ratio).toBeCloseTo(sa.ratio, 9);
    expect(sb.sd!).toBeCloseTo(sa.sd!, 9);
    await store.close();
  }, 60_000);
});
