import * as stat from 'simple-statistics';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStationEstimator, type StationEstimator } from '../../analytics/estimate/station.js';
import { NozzleState } from '../../analytics/estimate/station/nozzle.js';
import { STATION_DEFAULTS, stationOptions } from '../../analytics/estimate/station/options.js';
import type { SimDevice } from '../../devices-sim/fleet.js';
import type { StationSignCode } from '../../analytics/estimate/station/signs.js';
import { DAY, runStations, stationScenario, type Run } from './station-sim.js';

const MPE = 0.003;

const scenario = stationScenario({
  seed: 11,
  days: 42,
  stations: { count: 3, tanksPerStation: 2, nozzlesPerTank: 2, txPerNozzlePerDay: 80 },
  faults: [
    { kind: 'dispenser', type: 'drift', count: 1, startDay: [3, 6], ratePctPerYear: [8, 10] },
    { kind: 'dispenser', type: 'step', count: 1, startDay: [20, 22], sizePct: [1, 1] },
    { kind: 'dispenser', type: 'tamper', count: 1, startDay: [8, 12] },
    { kind: 'dispenser', type: 'stuck', count: 1, startDay: [5, 10] },
    { kind: 'dispenser', type: 'offline', count: 1, startDay: [10, 14], days: [2, 3] },
  ],
});

/** the nozzle's true error (mean over the local day a sample covers) */
function trueDayError(d: SimDevice, dayEnd: number): number {
  let s = 0;
  for (let h = 0; h < 24; h++) s += d.error.errorAt(dayEnd - DAY + (h + 0.5) * 3_600_000);
  return s / 24;
}

const faultOf = (d: SimDevice, type: string) => d.error.faults.find((f) => f.type === type);
const errorFaults = (d: SimDevice) => d.error.faults.some((f) => f.type === 'drift' || f.type === 'step' || f.type === 'tamper');

describe('station estimator on a simulated fleet', () => {
  let run: Run;
  let nozzles: SimDevice[];
  const signsOf = (id: string, code: StationSignCode) => run.signs.filter((s) => s.deviceId === id && s.code === code);
  const samplesOf = (id: string) => run.samples.filter((s) => s.deviceId === id);

  beforeAll(() => {
    run = runStations(scenario, (site, devices) => createStationEstimator(site, devices));
    nozzles = run.fleet.stations.flatMap((s) => s.tanks.flatMap((t) => t.nozzles));
  });

  it('reconciles every tank and emits about one sample per nozzle per day', () => {
    for (const est of run.estimators.values()) {
      const st = (est as StationEstimator).stats();
      expect(st.equations).toBeGreaterThan(2 * 38 * 96);
      expect(st.deliveries).toBeGreaterThan(4);
      expect(st.outliers).toBeLessThan(5);
    }
    for (const d of nozzles) {
      const ss = samplesOf(d.id);
      expect(ss.length).toBeGreaterThan(20);
      expect(ss.length).toBeLessThanOrEqual(42);
      const days = new Set(ss.map((s) => s.ts));
      expect(days.size).toBe(ss.length);
    }
  });

  it('healthy nozzles: estimates within 3 sd of the truth, sd resolving the 0.3 % MPE', () => {
    const healthy = nozzles.filter((d) => !errorFaults(d));
    expect(healthy.length).toBeGreaterThanOrEqual(6);
    let inside = 0;
    let total = 0;
    const sds: number[] = [];
    for (const d of healthy) {
      const ss = samplesOf(d.id).slice(-14);
      for (const s of ss) {
        total++;
        if (Math.abs(s.error - trueDayError(d, s.ts)) <= 3 * s.sd * MPE) inside++;
        expect(s.ratio).toBeCloseTo(s.error / MPE, 9);
      }
      const last = ss[ss.length - 1]!;
      // sd of the error after six weeks: 0.06 % (diesel, 60 L fills) to 0.11 % (gasoline, 30 L)
      expect(last.sd * MPE).toBeLessThan(0.0015);
      sds.push(last.sd * MPE);
      expect(Math.abs(last.error - trueDayError(d, last.ts))).toBeLessThan(3.5 * last.sd * MPE);
    }
    expect(inside / total).toBeGreaterThan(0.97);
    expect(Math.min(...sds)).toBeLessThan(0.0008);
  });

  it('healthy nozzles: the daily innovations the change detectors run on are standard, not the estimates repeated', () => {
    const zs = nozzles.filter((d) => !errorFaults(d)).flatMap((d) => samplesOf(d.id).slice(7).map((s) => s.innovationZ).filter((z): z is number => typeof z === 'number'));
    expect(zs.length).toBeGreaterThan(100);
    const mean = stat.mean(zs);
    const sd = stat.standardDeviation(zs);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(sd).toBeGreaterThan(0.5);
    expect(sd).toBeLessThan(1.5);
  });

  it('a 1 % step shows in the estimate: half of it within eight days, most within two weeks', () => {
    const d = nozzles.find((x) => faultOf(x, 'step'))!;
    const f = faultOf(d, 'step')!;
    const ss = samplesOf(d.id);
    const before = ss.filter((s) => s.ts <= f.startMs).at(-1)!;
    // moved in the step's direction (this one is downward), by a share of its size
    const size = f.size ?? 0;
    const moved = (days: number) => Math.sign(size) * (ss.filter((s) => s.ts >= f.startMs + days * DAY)[0]!.error - before.error);
    expect(moved(8)).toBeGreaterThan(0.5 * Math.abs(size));
    expect(moved(14)).toBeGreaterThan(0.75 * Math.abs(size));
    const last = ss.at(-1)!;
    expect(Math.abs(last.error - trueDayError(d, last.ts))).toBeLessThan(Math.max(3 * last.sd * MPE, 0.003));
  });

  it('flags the pulse tamper as kfactor_change, its events, and reads the tampered error day by day', () => {
    const d = nozzles.find((x) => faultOf(x, 'tamper'))!;
    const f = faultOf(d, 'tamper')!;
    const k = signsOf(d.id, 'kfactor_change');
    expect(k.length).toBeGreaterThan(0);
    expect(k[0]!.ts).toBeGreaterThanOrEqual(f.startMs);
    expect(k[0]!.ts - f.startMs).toBeLessThan(DAY);
    expect(signsOf(d.id, 'events').length).toBeGreaterThan(0);
    // days with the tamper on read its size, days with it off read the nozzle's own error
    const ss = samplesOf(d.id).filter((s) => s.ts > f.startMs + DAY);
    let right = 0;
    for (const s of ss) if (Math.abs(s.error - trueDayError(d, s.ts)) < 0.004) right++;
    expect(right / ss.length).toBeGreaterThan(0.8);
    for (const o of nozzles) if (o !== d) expect(signsOf(o.id, 'kfactor_change')).toHaveLength(0);
  });

  it('flags a stuck totaliser and nothing on healthy nozzles', () => {
    const d = nozzles.find((x) => faultOf(x, 'stuck'))!;
    const s = signsOf(d.id, 'totalizer_stuck');
    expect(s.length).toBe(1);
    expect(s[0]!.ts).toBeGreaterThanOrEqual(faultOf(d, 'stuck')!.startMs);
    for (const o of nozzles) {
      if (o.error.faults.length > 0) continue;
      expect(run.signs.filter((x) => x.deviceId === o.id)).toEqual([]);
    }
    for (const st of run.fleet.stations) for (const t of st.tanks) expect(signsOf(t.device.id, 'tank_loss')).toHaveLength(0);
  });

  it('an offline nozzle that backfills does not bias its tank', () => {
    const d = nozzles.find((x) => faultOf(x, 'offline'))!;
    const est = run.estimators.get(d.site) as StationEstimator;
    const st = est.stats();
    // the tank waited for the backfill instead of reconciling without it
    expect(st.holdExpired).toBe(0);
    expect(st.lateRestarts + st.lateClosed).toBeLessThan(10);
    const tank = run.fleet.stations.flatMap((s) => s.tanks).find((t) => t.nozzles.includes(d))!;
    for (const n of tank.nozzles) {
      const last = samplesOf(n.id).at(-1)!;
      expect(Math.abs(last.error - trueDayError(n, last.ts))).toBeLessThan(3 * last.sd * MPE);
    }
  });
});

describe('nozzle checks', () => {
  const o = stationOptions();
  const collect = () => {
    const signs: { ts: number; code: string }[] = [];
    return { signs, sink: (_id: string, ts: number, code: string) => signs.push({ ts, code }) };
  };

  it('learns K and signs a sustained change once, not a single odd transaction', () => {
    const n = new NozzleState('N', 0, MPE, 100, o);
    const { signs, sink } = collect();
    let t = 0;
    for (let i = 0; i < o.kLearn; i++) n.checkK(t++, 30, 3000 + (i % 3), sink);
    expect(n.kNominal).toBeCloseTo(100, 1);
    n.checkK(t++, 30, 3100, sink);
    n.checkK(t++, 30, 3000, sink);
    expect(signs).toEqual([]);
    for (let i = 0; i < 5; i++) n.checkK(t++, 31.2, 3000, sink);
    expect(signs.map((s) => s.code)).toEqual(['kfactor_change']);
  });

  it('totaliser: mismatch and stuck need consecutive evidence; seq gaps are not compared', () => {
    const n = new NozzleState('N', 0, MPE, 100, o);
    const { signs, sink } = collect();
    n.checkTotalizer(1, 1, 30, 1000, sink);
    n.checkTotalizer(2, 2, 20, 1020, sink);
    n.checkTotalizer(3, 5, 20, 1100, sink); // gap: re-based
    n.checkTotalizer(4, 6, 20, 1125, sink); // mismatch 1
    expect(signs).toEqual([]);
    n.checkTotalizer(5, 7, 20, 1150, sink); // mismatch 2
    expect(signs.map((s) => s.code)).toEqual(['totalizer_mismatch']);
    n.checkTotalizer(6, 8, 20, 1150, sink);
    n.checkTotalizer(7, 9, 20, 1150, sink);
    expect(signs.map((s) => s.code)).toEqual(['totalizer_mismatch', 'totalizer_stuck']);
  });

  it('events: a seal or parameter event alone arms, a combination within a day signs', () => {
    const n = new NozzleState('N', 0, MPE, 100, o);
    const { signs, sink } = collect();
    n.lastE = 0.001;
    n.lastSd = 0.0005;
    n.onEvents(0, ['param_change'], sink);
    n.onEvents(DAY / 2, ['power_cycle'], sink);
    expect(signs).toEqual([]);
    expect(n.armedUntil).toBe(o.armMs);
    expect(n.preE).toBe(0.001);
    n.onEvents(3 * DAY, ['seal_open'], sink);
    expect(signs).toEqual([]);
    n.onEvents(3 * DAY + 3_600_000, ['param_change'], sink);
    expect(signs.map((s) => s.code)).toEqual(['events']);
  });

  it('rejects options out of range', () => {
    expect(() => stationOptions({ lagMs: -1 })).toThrow(/ANA_STATION_OPTIONS_INVALID|out of range/);
    expect(stationOptions({}).lagMs).toBe(STATION_DEFAULTS.lagMs);
  });
});
