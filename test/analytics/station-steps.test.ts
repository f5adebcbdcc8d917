import { beforeAll, describe, expect, it } from 'vitest';
import { createStationEstimator } from '../../analytics/estimate/station.js';
import type { SimDevice } from '../../devices-sim/fleet.js';
import type { ScenarioInput } from '../../devices-sim/scenario.js';
import { DAY, runStations, type Run } from './station-sim.js';

/** one-sided 95 %: the replacement rule's P(|error| > MPE) ≥ 0.95 */
const Z95 = 1.645;

/** Tanks of three nozzles, one in four of them stepping by 0.6–1 % a month in. */
const scenario: ScenarioInput = {
  seed: 23,
  days: 75,
  start: '2025-03-01',
  areas: { count: 0, metersPerArea: [1, 1], intervalMin: 60, lossPct: [3, 5] },
  stations: { count: 4, tanksPerStation: 2, nozzlesPerTank: 3, txPerNozzlePerDay: 60 },
  markets: { count: 0, scalesPerMarket: 1, checksPerDay: 0 },
  faults: [{ kind: 'dispenser', type: 'step', count: 6, startDay: [30, 40], sizePct: [0.6, 1] }],
};

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
});
