import { z } from 'zod';
import { REGIONS } from '../ingest/readings.js';

/**
 * # Simulation scenario
 *
 * A scenario describes a fleet and its known faults. Every `[min, max]` pair is drawn uniformly
 * from the seeded generator, so one seed always gives the same fleet, faults and readings.
 *
 * ```jsonc
 * {
 *   "seed": 42,                       // integer; same seed, same fleet and readings
 *   "days": 365,                      // simulated span in days
 *   "start": "2025-01-01",            // optional: ISO date/time or ms since epoch;
 *                                     // default: `days` before the "now" the caller passes,
 *                                     // rounded down to local (UTC+8) midnight
 *   "regions": ["SH", "JS", "ZJ", "AH"], // optional, default all four; sites round-robin
 *   "areas": {                        // transformer areas (electricity)
 *     "count": 40,
 *     "metersPerArea": [30, 80],      // customer meters per area (plus one head meter)
 *     "intervalMin": 60,              // meter reading interval, minutes
 *     "lossPct": [3, 7]               // area line loss, % of customer consumption
 *   },
 *   "stations": {                     // fuel stations
 *     "count": 10,
 *     "tanksPerStation": 3,           // each with its own level gauge (kind 'tank')
 *     "nozzlesPerTank": 2,            // each nozzle is one 'dispenser' device
 *     "txPerNozzlePerDay": 60,        // mean transactions per nozzle per day
 *     "gaugeIntervalMin": 15          // optional, default 15
 *   },
 *   "markets": {                      // markets with trade scales
 *     "count": 10,
 *     "scalesPerMarket": 8,
 *     "checksPerDay": 4               // check-weight tests per scale per day
 *   },
 *   "faults": [                       // ground truth the analytics must find
 *     {
 *       "kind": "meter",              // meter | dispenser | scale | tank
 *       "type": "drift",              // drift | step | tamper | noise | stuck | clockSkew | offline
 *       "count": 5,                   // devices affected (each gets at most one fault of a type)
 *       "startDay": [10, 200],        // onset, days after start
 *       "ratePctPerYear": [2, 6],     // drift: |rate| in %/year (sign mostly in the owner's favour)
 *       "sizePct": [1, 3],            // step: |size| in %; tamper: |effect| in %
 *       "days": [1, 5],               // offline: outage length in days
 *       "skewS": [120, 900]           // clockSkew: |offset| in s (mostly ahead of true time)
 *     }
 *   ]
 * }
 * ```
 *
 * Omitted fault parameters take kind-specific defaults (see ./faults.ts). Customer meters, not
 * head meters, receive meter faults: the head meter is the area's reference.
 */

const range = (min = 0) =>
  z
    .tuple([z.number().min(min), z.number().min(min)])
    .refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min ≤ max' });

export const FAULT_KINDS = ['meter', 'dispenser', 'scale', 'tank'] as const;
export const FAULT_TYPES = ['drift', 'step', 'tamper', 'noise', 'stuck', 'clockSkew', 'offline'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultType = (typeof FAULT_TYPES)[number];

export const FaultSpec = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  type: z.enum(FAULT_TYPES),
  count: z.int().min(0),
  startDay: range(),
  ratePctPerYear: range().optional(),
  sizePct: range().optional(),
  days: range().optional(),
  skewS: range().optional(),
});
export type FaultSpec = z.output<typeof FaultSpec>;

export const Scenario = z.strictObject({
  seed: z.int(),
  days: z.number().positive().max(3660),
  start: z.union([z.iso.date(), z.iso.datetime({ offset: true }), z.int().min(1e12)]).optional(),
  regions: z.array(z.enum(REGIONS)).min(1).optional(),
  areas: z.strictObject({
    count: z.int().min(0),
    metersPerArea: range(1),
    intervalMin: z.int().min(1).max(1440),
    lossPct: range(),
  }),
  stations: z.strictObject({
    count: z.int().min(0),
    tanksPerStation: z.int().min(1).max(9),
    nozzlesPerTank: z.int().min(1).max(8),
    txPerNozzlePerDay: z.number().min(0),
    gaugeIntervalMin: z.int().min(1).max(1440).default(15),
  }),
  markets: z.strictObject({
    count: z.int().min(0),
    scalesPerMarket: z.int().min(1).max(99),
    checksPerDay: z.number().min(0),
  }),
  faults: z.array(FaultSpec).default([]),
});
/** A scenario as written (defaults optional). */
export type ScenarioInput = z.input<typeof Scenario>;
/** A validated scenario, defaults applied. */
export type Scenario = z.output<typeof Scenario>;

/**
 * A demo fleet of about `deviceCount` devices across the four regions: ~60 % meters, ~20 % fuel
 * (tanks and nozzles), ~20 % scales, over the last 60 days, with one or two faults of each type
 * that become visible within a few simulated weeks (drifts cross the MPE in 2–4 weeks).
 */
export function demoScenario(deviceCount: number, seed = 1): ScenarioInput {
  const n = Math.max(12, Math.round(deviceCount));
  const meterBudget = Math.round(n * 0.6);
  const areaCount = Math.max(1, Math.round(meterBudget / 20));
  const metersPerArea = Math.max(3, Math.round(meterBudget / areaCount) - 1);
  // a station is 2 tanks × 2 nozzles = 6 devices
  const stationCount = Math.max(1, Math.round((n * 0.2) / 6));
  const marketCount = Math.max(1, Math.round((n * 0.2) / 8));
  const few = (k: number) => Math.max(1, Math.min(2, Math.floor(k / 10)));
  const meters = areaCount * metersPerArea;
  const nozzles = stationCount * 4;
  const scales = marketCount * 8;
  const early: [number, number] = [2, 10];
  return {
    seed,
    days: 60,
    areas: { count: areaCount, metersPerArea: [metersPerArea - 2, metersPerArea + 2], intervalMin: 60, lossPct: [3, 6] },
    stations: { count: stationCount, tanksPerStation: 2, nozzlesPerTank: 2, txPerNozzlePerDay: 40, gaugeIntervalMin: 15 },
    markets: { count: marketCount, scalesPerMarket: 8, checksPerDay: 4 },
    faults: [
      // class 2 / B meters: MPE 1–2 %; 40–60 %/year crosses it in about 1–3 weeks
      { kind: 'meter', type: 'drift', count: few(meters), startDay: early, ratePctPerYear: [40, 60] },
      { kind: 'meter', type: 'step', count: 1, startDay: early, sizePct: [3, 5] },
      { kind: 'meter', type: 'tamper', count: 1, startDay: [5, 20] },
      { kind: 'meter', type: 'stuck', count: 1, startDay: [10, 30] },
      { kind: 'meter', type: 'clockSkew', count: 1, startDay: [1, 5], skewS: [400, 900] },
      { kind: 'meter', type: 'offline', count: 1, startDay: [10, 30], days: [2, 4] },
      { kind: 'meter', type: 'noise', count: 1, startDay: early },
      // dispensers: MPE 0.3 % (JJG 443-2023); 6–10 %/year crosses it in 1.5–3 weeks
      { kind: 'dispenser', type: 'drift', count: few(nozzles), startDay: early, ratePctPerYear: [6, 10] },
      { kind: 'dispenser', type: 'tamper', count: 1, startDay: [5, 20] },
      { kind: 'dispenser', type: 'offline', count: 1, startDay: [10, 30], days: [1, 3] },
      // class III scales at 10 kg, e = 10 g: in-service MPE 2 e = 0.2 %; 3–6 %/year
      { kind: 'scale', type: 'drift', count: few(scales), startDay: early, ratePctPerYear: [3, 6] },
      { kind: 'scale', type: 'tamper', count: 1, startDay: [5, 20] },
      { kind: 'scale', type: 'clockSkew', count: 1, startDay: [1, 5], skewS: [400, 900] },
      { kind: 'tank', type: 'tamper', count: 1, startDay: [5, 20] },
    ],
  };
}
