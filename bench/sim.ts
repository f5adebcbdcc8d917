/**
 * Fleet simulator throughput: one simulated year of the evaluation fleet (40 areas × 30–80
 * meters hourly, 20 stations, 20 markets), readings counted but not transported.
 * Prints one JSON object. Run: npx driftwatch bench sim [days]
 */
import { buildFleet } from '../devices-sim/fleet.js';
import { createFleetState } from '../devices-sim/generator.js';
import type { ScenarioInput } from '../devices-sim/scenario.js';

const days = Number(process.argv[2] ?? 365);
const scenario: ScenarioInput = {
  seed: 7,
  days,
  start: '2025-01-01',
  areas: { count: 40, metersPerArea: [30, 80], intervalMin: 60, lossPct: [3, 7] },
  stations: { count: 20, tanksPerStation: 3, nozzlesPerTank: 2, txPerNozzlePerDay: 60 },
  markets: { count: 20, scalesPerMarket: 8, checksPerDay: 4 },
  faults: [
    { kind: 'meter', type: 'drift', count: 40, startDay: [10, 200], ratePctPerYear: [2, 6] },
    { kind: 'meter', type: 'tamper', count: 5, startDay: [10, 300] },
    { kind: 'dispenser', type: 'drift', count: 10, startDay: [10, 200] },
    { kind: 'dispenser', type: 'tamper', count: 3, startDay: [10, 300] },
    { kind: 'scale', type: 'tamper', count: 3, startDay: [10, 300] },
  ],
};

const t0 = performance.now();
const fleet = buildFleet(scenario, Date.parse('2026-01-01'));
const built = performance.now();
const state = createFleetState(fleet);
let readings = 0;
let checksum = 0;
const byKind = { meter: 0, dispenser: 0, tank: 0, scale: 0 };
state.advance(fleet.endMs, (device, reading) => {
  readings++;
  byKind[device.kind]++;
  checksum += reading.seq;
});
const done = performance.now();
const seconds = (done - built) / 1000;
process.stdout.write(
  `${JSON.stringify({
    bench: 'devices-sim/generate',
    days,
    devices: fleet.devices.length,
    readings,
    byKind,
    buildMs: Math.round(built - t0),
    generateMs: Math.round(done - built),
    readingsPerSecond: Math.round(readings / seconds),
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    checksum,
  })}\n`,
);
