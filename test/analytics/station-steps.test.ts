import { beforeAll, describe, expect, it } from 'vitest';
import { createStationEstimator } from '../../analytics/estimate/station.js';
import type { SimDevice } from '../../devices-sim/fleet.js';
import { DAY, runStations, stationScenario, type Run } from './station-sim.js';

/** one-sided 95 %: the replacement rule's P(|error| > MPE) ≥ 0.95 */
const Z95 = 1.645;

/** Tanks of three nozzles, one in four of them stepping by 0.6–1 % a month in. */
const scenario = stationScenario({
  seed: 23,
  days: 75,
  stations: { count: 4, tanksPerStation: 2, nozzlesPerTank: 3, txPerNozzlePerDay: 60 },
  faults: [{ kind: 'dispenser', type: 'step', count: 6, startDay: [30, 40], sizePct: [0.6, 1] }],
});

describe('station estimator: steps in one nozzle of a tank', () => {
  let run: Run;
  let nozzles: SimDevice[];
  beforeAll(() => {
    run = runStations(scenario, (site, devices) => createStationEstimator(site, devices));
    nozzles = run.fleet.stations.flatMap((s) => s.tanks.flatMap((t) => t.nozzles));
  });
  const stepOf = (d: SimDevice) => d.error.faults.find((f) => f.type === 'step');

  it('does not sign the stepped nozzle’s healthy peers for deviating from the tank', () => {
    const healthy = new Set(nozzles.filter((d) => !stepOf(d)).map((d) => d.id));
    const wrong = run.signs.filter((s) => s.code === 'peer_deviation' && healthy.has(s.deviceId));
    expect(wrong).toEqual([]);
  });

  it('a healthy nozzle is never out of tolerance on two days running, even beside a stepped peer', () => {
    const wrong: string[] = [];
    for (const d of nozzles.filter((x) => !stepOf(x))) {
      let days = 0;
      for (const s of run.samples.filter((x) => x.deviceId === d.id)) {
        days = !s.provisional && Math.abs(s.ratio) - Z95 * s.sd > 1 ? days + 1 : 0;
        if (days === 2) wrong.push(`${d.id}@${new Date(s.ts).toISOString().slice(0, 10)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('station estimator: most of a tank faulty', () => {
  // one tank of three nozzles, two of them with a pulse tamper (3–6 % short delivery)
  const twoOfThree = stationScenario({
    seed: 5,
    days: 60,
    stations: { count: 1, tanksPerStation: 1, nozzlesPerTank: 3, txPerNozzlePerDay: 60 },
    faults: [{ kind: 'dispenser', type: 'tamper', count: 2, startDay: [15, 20] }],
  });

  it('does not sign the sound nozzle for deviating from a median that is itself faulty', () => {
    const r = runStations(twoOfThree, (site, devices) => createStationEstimator(site, devices));
    const all = r.fleet.stations.flatMap((s) => s.tanks.flatMap((t) => t.nozzles));
    const sound = all.filter((d) => d.error.faults.length === 0);
    expect(sound.length).toBe(1);
    expect(r.signs.filter((s) => s.code === 'peer_deviation' && s.deviceId === sound[0]!.id)).toEqual([]);
    // the tampered ones are still found: beyond their MPE, and signed
    for (const d of all.filter((x) => !sound.includes(x))) {
      expect(r.samples.some((s) => s.deviceId === d.id && Math.abs(s.ratio) - Z95 * s.sd > 1)).toBe(true);
      expect(r.signs.some((s) => s.deviceId === d.id)).toBe(true);
    }
  });
});
