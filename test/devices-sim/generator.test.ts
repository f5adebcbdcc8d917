import { describe, expect, it } from 'vitest';
import { READING_SCHEMAS } from '../../ingest/schemas.js';
import { buildFleet } from '../../devices-sim/fleet.js';
import { createFleetState, simulate } from '../../devices-sim/generator.js';
import { demoScenario } from '../../devices-sim/scenario.js';
import { DAY, HOUR, START, collector, scenario } from './helpers.js';

const allFaults = scenario({
  faults: [
    { kind: 'meter', type: 'drift', count: 2, startDay: [0, 1] },
    { kind: 'meter', type: 'tamper', count: 1, startDay: [0, 1] },
    { kind: 'meter', type: 'stuck', count: 1, startDay: [0, 1] },
    { kind: 'dispenser', type: 'tamper', count: 1, startDay: [0, 1] },
    { kind: 'dispenser', type: 'noise', count: 1, startDay: [0, 1] },
    { kind: 'scale', type: 'tamper', count: 1, startDay: [0, 1] },
    { kind: 'tank', type: 'step', count: 1, startDay: [0, 1] },
  ],
});

describe('simulate', () => {
  it('is deterministic for a seed', () => {
    const a = collector();
    const b = collector();
    simulate(buildFleet(allFaults, START), START, START + 3 * DAY, a.emit);
    simulate(buildFleet(allFaults, START), START, START + 3 * DAY, b.emit);
    expect(a.out.length).toBeGreaterThan(1000);
    expect(b.out.map((g) => [g.device.id, g.reading])).toEqual(a.out.map((g) => [g.device.id, g.reading]));
    const c = collector();
    simulate(buildFleet({ ...allFaults, seed: 99 }, START), START, START + 3 * DAY, c.emit);
    expect(c.out.map((g) => g.reading)).not.toEqual(a.out.map((g) => g.reading));
  });

  it('is resumable: slices give exactly the readings of one span', () => {
    const one = collector();
    simulate(buildFleet(allFaults, START), START, START + 2 * DAY, one.emit);
    const sliced = collector();
    const state = createFleetState(buildFleet(allFaults, START));
    // odd slice lengths that cut through meter, gauge and market steps
    let t = START;
    const cuts = [7 * 60_000, 53 * 60_000, 3 * HOUR + 1, 11 * HOUR, 17 * 60_000];
    for (let i = 0; t < START + 2 * DAY; i++) {
      const next = Math.min(START + 2 * DAY, t + (cuts[i % cuts.length] as number));
      simulate(state, t, next, sliced.emit);
      t = next;
    }
    const byDevice = (g: typeof one.out) => {
      const m = new Map<string, unknown[]>();
      for (const x of g) (m.get(x.device.id) ?? m.set(x.device.id, []).get(x.device.id))?.push(x.reading);
      return m;
    };
    expect(sliced.out.length).toBe(one.out.length);
    expect(byDevice(sliced.out)).toEqual(byDevice(one.out));
  });

  it('skips (but integrates) time before fromMs and never repeats simulated time', () => {
    const fleet = buildFleet(scenario(), START);
    const full = collector();
    simulate(fleet, START, START + 2 * DAY, full.emit);
    const state = createFleetState(fleet);
    const late = collector();
    simulate(state, START + DAY, START + 2 * DAY, late.emit);
    expect(late.out.map((g) => g.reading)).toEqual(full.out.filter((g) => g.trueMs > START + DAY).map((g) => g.reading));
    expect(simulate(state, START, START + 2 * DAY, () => {})).toBe(0);
  });

  it('emits readings in approximate event-time order with seq from 1 and cumulative registers', () => {
    const { out, emit } = collector();
    simulate(buildFleet(allFaults, START), START, START + 3 * DAY, emit);
    let maxSeen = 0;
    for (const g of out) {
      // rounds are at most one hour long
      expect(g.trueMs).toBeGreaterThan(maxSeen - HOUR - 1);
      maxSeen = Math.max(maxSeen, g.trueMs);
      expect(Number.isInteger(g.reading.ts)).toBe(true);
    }
    const last = new Map<string, { seq: number; reg: number; trueMs: number }>();
    for (const g of out) {
      const prev = last.get(g.device.id) ?? { seq: 0, reg: -1, trueMs: 0 };
      expect(g.reading.seq).toBe(prev.seq + 1);
      expect(g.trueMs).toBeGreaterThanOrEqual(prev.trueMs);
      const r = g.reading as unknown as Record<string, number>;
      const reg = g.device.kind === 'meter' ? (r.energyWh as number) : g.device.kind === 'dispenser' ? (r.totalizerL as number) : 0;
      expect(reg).toBeGreaterThanOrEqual(prev.reg === -1 ? 0 : prev.reg);
      last.set(g.device.id, { seq: g.reading.seq, reg, trueMs: g.trueMs });
    }
    // every device reported
    expect(last.size).toBe(buildFleet(allFaults, START).devices.length);
  });

  it('produces readings every ingest schema accepts, for all kinds and every fault type', () => {
    const fleet = buildFleet({ ...demoScenario(150, 3), start: START, faults: [
      ...(demoScenario(150, 3).faults ?? []).map((f) => ({ ...f, startDay: [0, 2] as [number, number] })),
      { kind: 'scale', type: 'stuck', count: 1, startDay: [0, 1] },
      { kind: 'tank', type: 'stuck', count: 1, startDay: [0, 1] },
      { kind: 'dispenser', type: 'stuck', count: 1, startDay: [0, 1] },
    ] }, START);
    const counts = { meter: 0, dispenser: 0, tank: 0, scale: 0 };
    const events = new Set<string>();
    let checks = 0;
    let deliveries = 0;
    simulate(fleet, START, START + 15 * DAY, (device, reading) => {
      const r = READING_SCHEMAS[device.kind].safeParse(reading);
      if (!r.success) throw new Error(`${device.id} ${JSON.stringify(reading)}: ${r.error.message}`);
      counts[device.kind]++;
      for (const e of (reading as { events?: string[] }).events ?? []) events.add(`${device.kind}:${e}`);
      if ('checkRefKg' in reading) checks++;
      if ('deliveryL' in reading) deliveries++;
    });
    for (const k of Object.values(counts)) expect(k).toBeGreaterThan(100);
    expect(checks).toBeGreaterThan(100);
    expect(deliveries).toBeGreaterThan(0);
    for (const e of ['meter:magnetic', 'dispenser:seal_open', 'dispenser:param_change', 'scale:param_change', 'scale:mode_change']) expect(events).toContain(e);
  });
});
