import type { ScenarioInput } from '../../devices-sim/scenario.js';

/** A small scenario with faults no estimator should miss: tampers and large steps on every kind. */
export const SMALL_EVAL: ScenarioInput = {
  seed: 11,
  days: 45,
  start: '2025-03-01',
  areas: { count: 3, metersPerArea: [20, 30], intervalMin: 60, lossPct: [3, 7] },
  stations: { count: 1, tanksPerStation: 2, nozzlesPerTank: 2, txPerNozzlePerDay: 60 },
  markets: { count: 1, scalesPerMarket: 4, checksPerDay: 4 },
  faults: [
    { kind: 'meter', type: 'tamper', count: 2, startDay: [10, 25] },
    { kind: 'meter', type: 'step', count: 2, startDay: [5, 15], sizePct: [15, 25] },
    { kind: 'meter', type: 'offline', count: 1, startDay: [5, 30], days: [1, 3] },
    { kind: 'dispenser', type: 'tamper', count: 1, startDay: [10, 25] },
    { kind: 'scale', type: 'tamper', count: 1, startDay: [10, 25] },
  ],
} as ScenarioInput;
