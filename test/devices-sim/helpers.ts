import type { AnyReading } from '../../ingest/readings.js';
import type { SimDevice } from '../../devices-sim/fleet.js';
import type { ScenarioInput } from '../../devices-sim/scenario.js';

/** 2025-03-03 00:00 local (UTC+8), a Monday */
export const START = Date.parse('2025-03-02T16:00:00Z');
export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export function scenario(over: Partial<ScenarioInput> = {}): ScenarioInput {
  return {
    seed: 11,
    days: 30,
    start: START,
    areas: { count: 2, metersPerArea: [20, 30], intervalMin: 60, lossPct: [3, 7] },
    stations: { count: 1, tanksPerStation: 2, nozzlesPerTank: 2, txPerNozzlePerDay: 50 },
    markets: { count: 1, scalesPerMarket: 4, checksPerDay: 6 },
    faults: [],
    ...over,
  };
}

export interface Got {
  device: SimDevice;
  reading: AnyReading;
  trueMs: number;
}

export function collector(): { out: Got[]; emit: (device: SimDevice, reading: AnyReading, trueMs: number) => void } {
  const out: Got[] = [];
  return { out, emit: (device, reading, trueMs) => out.push({ device, reading: structuredClone(reading), trueMs }) };
}
