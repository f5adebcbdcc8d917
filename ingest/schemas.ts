import { z } from 'zod';
import { DISPENSER_EVENTS, METER_EVENTS, SCALE_EVENTS } from './readings.js';
import type { DispenserReading, Kind, MeterReading, ScaleReading, TankReading } from './readings.js';

/**
 * Zod schemas of the readings contract (./readings.ts), built once at load.
 *
 * Every object is strict (an unknown key is a schema violation: a misspelt field must not be
 * silently dropped). Every number is finite: zod 4 rejects NaN and ±Infinity, which JSON.parse
 * produces for literals such as 1e999. Bounds are physical plausibility limits, deliberately wide:
 * they catch unit mistakes and corrupted frames, not drift (drift is analytics' business).
 * A bound violation is reported as ING_VALUE_ABSURD, see ./classify.ts.
 */

/** ms; 1e12 is 2001-09-09: a smaller ts is almost surely seconds sent by mistake. */
export const MIN_TS_MS = 1e12;

const ts = z.int().min(MIN_TS_MS);
// seq is a per-device counter; z.int() also caps it at Number.MAX_SAFE_INTEGER.
const seq = z.int().min(0);
/** Event lists are short: a device reports each event at most a few times per reading. */
const MAX_EVENTS = 32;

// °C. Fuel dispensers are specified for −25…+55 °C ambient (OIML R 117-1:2019, 3.3 climatic
// environment classes) and fuel in the tank or hose stays within that; −50…+80 °C leaves margin
// for sun-heated hoses and arctic sites while rejecting Kelvin or °F sent by mistake.
const temperatureC = z.number().min(-50).max(80);

const meter = z.strictObject({
  ts,
  seq,
  // Wh. A kWh register of 8 integer digits (IEC 62053-21/-23 displays) tops out below 1e11 Wh;
  // < 1e13 leaves two decades of headroom for CT-connected meters reporting primary energy.
  energyWh: z.number().min(0).lt(1e13),
  // W, import only: reverse flow is reported as the 'reverse' event, not as negative power.
  // LV customer meters are direct-connected up to Imax 100 A (≈ 70 kW at 3 × 230/400 V,
  // IEC 62052-11); CT-connected area head meters sit behind one 10/0.4 kV distribution
  // transformer, whose rating series ends at 2500 kVA (GB/T 6451): 2.5 MW at unity power factor.
  powerW: z.number().min(0).max(2.5e6),
  // V. Low voltage ends at 1000 V AC (IEC 60038), the range these meters are approved for.
  voltageV: z.number().min(0).max(1000).exactOptional(),
  // A. 2500 kVA at 400 V three-phase is ≈ 3600 A per phase; 5000 A bounds any LV busbar.
  currentA: z.number().min(0).max(5000).exactOptional(),
  events: z.array(z.enum(METER_EVENTS)).max(MAX_EVENTS).exactOptional(),
});

const dispenser = z.strictObject({
  ts,
  seq,
  // Nozzle index on the dispenser; both 0- and 1-based numbering occur in dispenser protocols,
  // and no dispenser carries more than a few dozen nozzles.
  nozzle: z.int().min(0).max(63),
  // L per transaction, > 0: a transaction record exists only when fuel was delivered. 2000 L is
  // twice the largest road-tanker-filling transaction of a high-flow (≤ 150 L/min, OIML R 117-1
  // Qmax) diesel nozzle held for 13 min.
  volumeL: z.number().gt(0).max(2000),
  // L, cumulative; electronic totalisers have 8–10 digits.
  totalizerL: z.number().min(0).lt(1e10),
  // Pulse transmitters give ≤ 1000 pulses/L; 2000 L × 1000 = 2e6, bound at 1e7.
  pulses: z.int().min(0).max(1e7),
  temperatureC,
  events: z.array(z.enum(DISPENSER_EVENTS)).max(MAX_EVENTS).exactOptional(),
});

const tank = z.strictObject({
  ts,
  seq,
  // mm. Filling-station underground tanks are ≤ 50 m³ cylinders of ≤ 3.2 m diameter
  // (GB 50156-2021, 3.0.9 tank volumes); 5000 mm also covers above-ground depot tanks' gauges.
  levelMm: z.number().min(0).max(5000),
  // L. ≤ 50 m³ per station tank (GB 50156); 200 000 L admits small depot tanks.
  volumeL: z.number().min(0).max(200_000),
  temperatureC,
  // L delivered since the previous reading: at most one tank's capacity.
  deliveryL: z.number().min(0).max(200_000).exactOptional(),
});

// kg. Trade scales run from counter scales (≤ 30 kg) to weighbridges (≤ 150 t, OIML R 76-1
// class III/IIII); a check weight or its indication cannot exceed 200 t.
const MAX_LOAD_KG = 200_000;

const scale = z
  .strictObject({
    ts,
    seq,
    // kg no-load indication. Zero-setting is limited to 4 % of Max (OIML R 76-1, 4.5.1); even for
    // a 150 t weighbridge that is < 6 t, but for a market scale anything past 1000 kg is garbage.
    zeroKg: z.number().min(-1000).max(1000),
    checkRefKg: z.number().gt(0).max(MAX_LOAD_KG).exactOptional(),
    // A faulty scale may indicate below zero under load, but not by more than the zero bound.
    checkIndicatedKg: z.number().min(-1000).max(MAX_LOAD_KG).exactOptional(),
    // degrees from level: 0 is level, 90 is on its side.
    tiltDeg: z.number().min(0).max(90).exactOptional(),
    events: z.array(z.enum(SCALE_EVENTS)).max(MAX_EVENTS).exactOptional(),
  })
  .refine((r) => (r.checkRefKg === undefined) === (r.checkIndicatedKg === undefined), {
    message: 'checkRefKg and checkIndicatedKg come together or not at all',
    path: ['checkIndicatedKg'],
  });

/** One schema per kind; `safeParse` per reading on the hot path. */
export const READING_SCHEMAS = { meter, dispenser, tank, scale } as const satisfies { readonly [K in Kind]: z.ZodType };

// Type-level checks: each inferred type is exactly its interface in readings.ts, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemaMatchesContract = [
  Assert<Same<z.infer<typeof meter>, MeterReading>>,
  Assert<Same<z.infer<typeof dispenser>, DispenserReading>>,
  Assert<Same<z.infer<typeof tank>, TankReading>>,
  Assert<Same<z.infer<typeof scale>, ScaleReading>>,
];
