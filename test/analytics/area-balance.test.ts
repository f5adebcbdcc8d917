import * as stat from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { AreaBalance } from '../../analytics/estimate/area-balance.js';
import { Rng } from '../../devices-sim/rng.js';

/** the project's seeded generator: the same seed, the same area */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** A synthetic area: diverse daily profiles, fixed + variable losses, meters with known errors. */
function simulateArea(errors: number[], days: number, seed: number, opts: { offline?: { meter: number; fromH: number; toH: number } } = {}) {
  const u = rng(seed);
  const m = errors.length;
  const phase = errors.map(() => u() * 24);
  const base = errors.map(() => 300 + u() * 1500);
  const regs = new Float64Array(m);
  let head = 0;
  const t0 = Date.UTC(2026, 0, 1);
  const bal = new AreaBalance('H', errors.map((_, i) => `M${i}`));
  const stepMin = 15;
  const buffered: [string, number, number][] = [];
  for (let s = 0; s <= (days * 24 * 60) / stepMin; s++) {
    const ts = t0 + s * stepMin * 60_000;
    const hour = (s * stepMin) / 60;
    let total = 0;
    for (let i = 0; i < m; i++) {
      const load = base[i]! * (1 + 0.8 * Math.sin(((hour + phase[i]!) / 24) * 2 * Math.PI)) * -Math.log(1 - u()); // household loads switch on and off: hourly CV near 1
      const trueWh = (load * stepMin) / 60;
      total += trueWh;
      regs[i]! += trueWh * (1 + errors[i]!);
    }
    const losses = 40 * (stepMin / 60) + 2e-6 * total * total;
    head += (total + losses) * (1 + (u() - 0.5) * 0.002);
    // readings jittered by a few seconds, as real devices report
    bal.add('H', ts + Math.floor(u() * 5000), head);
    for (let i = 0; i < m; i++) {
      const r: [string, number, number] = [`M${i}`, ts + Math.floor(u() * 20_000), regs[i]!];
      const off = opts.offline;
      if (off && off.meter === i && hour >= off.fromH && hour < off.toH) buffered.push(r);
      else {
        if (off && off.meter === i && buffered.length) for (const b of buffered.splice(0)) bal.add(...b);
        bal.add(...r);
      }
    }
    if (s % 4 === 0) bal.step();
  }
  bal.step();
  return bal;
}

describe('AreaBalance', () => {
  it('recovers known meter errors with honest uncertainty', () => {
    const errors = Array.from({ length: 30 }, (_, i) => (i === 3 ? -0.1 : i === 7 ? 0.03 : i === 11 ? -0.5 : 0));
    const bal = simulateArea(errors, 30, 42);
    expect(bal.equations).toBeGreaterThan(500);
    for (let i = 0; i < errors.length; i++) {
      const est = bal.estimate(`M${i}`)!;
      expect(est.sd).toBeGreaterThan(0);
      // within 5 sd: the balance's loss model is deliberately misspecified here (losses are
      // quadratic in quarter-hour loads, the balance is hourly), as real losses never fit exactly
      expect(Math.abs(est.error - errors[i]!)).toBeLessThan(Math.max(5 * est.sd, 0.004, 0.03 * Math.abs(errors[i]!)));
    }
    const m3 = bal.estimate('M3')!;
    expect(m3.error + 3 * m3.sd).toBeLessThan(-0.02); // the −10 % meter is shown out of a 2 % MPE with confidence
    expect(bal.estimate('M11')!.error).toBeCloseTo(-0.5, 1);
    // a month of hourly balances pins a healthy meter to about half a 2 % MPE (level and drift rate both unknown)
    expect(bal.estimate('M0')!.sd).toBeLessThan(0.012);
  });

  it('folds in a meter that was offline for two days and backfilled', () => {
    const errors = Array.from({ length: 20 }, (_, i) => (i === 5 ? 0.05 : 0));
    const bal = simulateArea(errors, 20, 7, { offline: { meter: 5, fromH: 100, toH: 148 } });
    expect(bal.processedTo).toBeGreaterThan(Date.UTC(2026, 0, 20));
    const est = bal.estimate('M5')!;
    expect(Math.abs(est.error - 0.05)).toBeLessThan(Math.max(3 * est.sd, 0.003));
  });
});

import type { ScenarioInput } from '../../devices-sim/scenario.js';

type Fleet = ReturnType<typeof import('../../devices-sim/fleet.js').buildFleet>;
type Truth = ReturnType<typeof import('../../devices-sim/truth.js').createTruth>;

/**
 * Transformer areas of the simulator (no stations or markets) fed day by day into area
 * balances: `balances` makes each area's (several, to compare options on the same readings),
 * `onDay` looks at them after each simulated day.
 */
async function throughBalances(
  o: { seed: number; days: number; areas: number; meters: [number, number]; faults?: ScenarioInput['faults'] },
  balances: (head: string, customers: string[]) => AreaBalance[],
  onDay: (day: number, fleet: Fleet, truth: Truth, bySite: Map<string, AreaBalance[]>) => void,
): Promise<void> {
  const { buildFleet } = await import('../../devices-sim/fleet.js');
  const { createFleetState, simulate } = await import('../../devices-sim/generator.js');
  const { createTruth } = await import('../../devices-sim/truth.js');
  const scenario = {
    seed: o.seed,
    days: o.days,
    start: '2025-04-01',
    areas: { count: o.areas, metersPerArea: o.meters, intervalMin: 60, lossPct: [3, 7] as [number, number] },
    stations: { count: 0, tanksPerStation: 1, nozzlesPerTank: 1, txPerNozzlePerDay: 1 },
    markets: { count: 0, scalesPerMarket: 1, checksPerDay: 1 },
    faults: o.faults ?? [],
  };
  const fleet = buildFleet(scenario, Date.UTC(2026, 0, 1));
  const truth = createTruth(fleet);
  const bySite = new Map(fleet.areas.map((a) => [a.site, balances(a.head.id, a.customers.map((d) => d.id))]));
  const st = createFleetState(fleet);
  for (let day = 1; day <= o.days; day++) {
    simulate(st, fleet.startMs + (day - 1) * 86_400_000, fleet.startMs + day * 86_400_000, (d, r) => {
      for (const b of bySite.get(d.site)!) b.add(d.id, r.ts, (r as { energyWh: number }).energyWh);
    });
    for (const bs of bySite.values()) for (const b of bs) b.step();
    onDay(day, fleet, truth, bySite);
  }
}

describe('AreaBalance on the simulator\'s physics', () => {
  it('reports uncertainties that cover healthy meters as a normal law would', async () => {
    const z: number[] = [];
    await throughBalances({ seed: 3, days: 90, areas: 2, meters: [40, 70] }, (head, customers) => [new AreaBalance(head, customers)], (day, fleet, truth, bySite) => {
      if (day < 14 || day % 7 !== 0) return;
      for (const a of fleet.areas) {
        const b = bySite.get(a.site)![0]!;
        for (const d of a.customers) {
          const est = b.estimate(d.id)!;
          z.push(Math.abs(est.error - truth.trueErrorAt(d.id, b.processedTo)) / est.sd);
        }
      }
    });
    z.sort((a, b) => a - b);
    const q = (p: number) => z[Math.floor(p * (z.length - 1))]!;
    expect(z.length).toBeGreaterThan(800);
    // no wider than a normal law in the bulk or the tail (an overconfident filter fails here)…
    expect(q(0.95)).toBeLessThan(1.96 * 1.1);
    expect(q(0.99)).toBeLessThan(2.58 * 1.1);
    // …and not so wide that the uncertainty says nothing
    expect(q(0.95)).toBeGreaterThan(1.0);
  }, 30_000);
});

describe('AreaBalance innovations', () => {
  // the day-to-day innovations of healthy meters' estimates, which the change detectors run on:
  // close to N(0, 1) under the model (not the estimates themselves, which share most of their data
  // from one day to the next), and uncorrelated from day to day
  it('are standard and uncorrelated for healthy meters', async () => {
    const byMeter = new Map<string, number[]>();
    await throughBalances({ seed: 4, days: 120, areas: 2, meters: [40, 70] }, (head, customers) => [new AreaBalance(head, customers)], (day, fleet, _truth, bySite) => {
      for (const a of fleet.areas) {
        const b = bySite.get(a.site)![0]!;
        for (const d of a.customers) {
          const z = b.innovation(d.id);
          if (day > 30 && z !== null) byMeter.set(d.id, [...(byMeter.get(d.id) ?? []), z]);
        }
      }
    });
    const all = [...byMeter.values()].flat();
    expect(all.length).toBeGreaterThan(8000);
    const mean = stat.mean(all);
    const sd = stat.standardDeviation(all);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.6);
    expect(sd).toBeLessThan(1.2);
    // lag-1 autocorrelation pooled over meters: the estimates themselves are near 1
    let num = 0;
    let den = 0;
    for (const zs of byMeter.values()) for (let i = 1; i < zs.length; i++) {
      num += (zs[i]! - mean) * (zs[i - 1]! - mean);
      den += (zs[i - 1]! - mean) ** 2;
    }
    expect(Math.abs(num / den)).toBeLessThan(0.15);
  }, 60_000);

  it('show a step in the stepped meter at once', async () => {
    let max = 0;
    await throughBalances(
      { seed: 6, days: 56, areas: 1, meters: [40, 60], faults: [{ kind: 'meter', type: 'step', count: 1, startDay: [50, 50], sizePct: [5, 5] }] },
      (head, customers) => [new AreaBalance(head, customers, { stepThreshold: Infinity })],
      (day, _fleet, truth, bySite) => {
        const b = [...bySite.values()][0]![0]!;
        const faulty = truth.faulty()[0]!.id;
        const z = b.innovation(faulty);
        if (day > 50 && z !== null) max = Math.max(max, Math.abs(z));
      },
    );
    expect(max).toBeGreaterThan(3);
  }, 30_000);
});

describe('AreaBalance step CUSUM', () => {
  // one area, one household-sized step of +5 % on day 50, the same readings through the balance
  // with the CUSUM off and on (the default): the day after the step at which the estimate first
  // says P(|error| > 2 %) ≥ 0.95, on one fixed draw of the area (not every draw gains this much).
  it('re-opens a stepped meter and confirms it sooner than the balance without it', async () => {
    const confirmed = [Infinity, Infinity];
    let balances: AreaBalance[] = [];
    await throughBalances(
      { seed: 6, days: 80, areas: 1, meters: [40, 60], faults: [{ kind: 'meter', type: 'step', count: 1, startDay: [50, 50], sizePct: [5, 5] }] },
      (head, customers) => (balances = [new AreaBalance(head, customers, { stepThreshold: Infinity }), new AreaBalance(head, customers)]),
      (day, _fleet, truth) => {
        if (day <= 50) return;
        const faulty = truth.faulty()[0]!.id;
        balances.forEach((b, k) => {
          const est = b.estimate(faulty)!;
          if (confirmed[k] === Infinity && Math.abs(est.error) - 1.645 * est.sd > 0.02) confirmed[k] = day - 50;
        });
      },
    );
    const on = balances[1]!;
    expect(on.stepReopens).toBeGreaterThan(0);
    expect(confirmed[1]).toBeLessThanOrEqual(3);
    expect(confirmed[0]).toBeGreaterThan(10);
    expect(confirmed[0]).toBeLessThan(Infinity);
  }, 30_000);
});

describe('AreaBalance follows drifting meters', () => {
  // three household-or-larger meters of one area drift at 8 %/year from day 20; four draws of the
  // area. The anchor (the healthy meters are right on average) must not hold them back: it once
  // did, as a daily observation whose information piled up, and 4 of these 12 estimates ended
  // more than 3 sd from the truth.
  it('ends each drifting meter within 3 sd of its true error', async () => {
    const z: number[] = [];
    for (const seed of [1, 2, 3, 4]) {
      await throughBalances(
        { seed, days: 240, areas: 1, meters: [40, 60], faults: [{ kind: 'meter', type: 'drift', count: 3, startDay: [20, 20], ratePctPerYear: [8, 8] }] },
        (head, customers) => [new AreaBalance(head, customers)],
        (day, fleet, truth, bySite) => {
          if (day !== 240) return;
          const b = bySite.get(fleet.areas[0]!.site)![0]!;
          for (const d of truth.faulty()) {
            const est = b.estimate(d.id)!;
            const t = truth.trueErrorAt(d.id, b.processedTo);
            expect(Math.abs(t)).toBeGreaterThan(0.035);
            z.push(Math.abs(est.error - t) / est.sd);
          }
        },
      );
    }
    expect(z).toHaveLength(12);
    expect(Math.max(...z)).toBeLessThan(3);
  }, 60_000);
});
