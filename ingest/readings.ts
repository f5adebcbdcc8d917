/**
 * The readings contract: what a device publishes on `devices/{id}/readings`.
 * One reading per message, or a JSON array of readings for batches (offline backfill).
 * The zod schemas in ./schemas.ts validate exactly these shapes.
 */

import type { Kind, Region } from '../lib/domain.js';

export { KINDS, REGIONS, type Kind, type Region } from '../lib/domain.js';

/** bytes: the largest message ingest accepts; a device splits a backfill into arrays under it */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

interface Base {
  /** ms since epoch, device clock */
  ts: number;
  /** integer, increasing per device; the deduplication key with the device id */
  seq: number;
}

export const METER_EVENTS = ['cover_open', 'magnetic', 'reverse', 'power_down', 'terminal_open', 'bypass'] as const;
export const DISPENSER_EVENTS = ['seal_open', 'param_change', 'self_lock', 'auth_fail', 'power_cycle', 'firmware_change'] as const;
export const SCALE_EVENTS = ['tare', 'param_change', 'reboot', 'unstable', 'mode_change'] as const;

export interface MeterReading extends Base {
  /** Wh, cumulative active-energy register */
  energyWh: number;
  /** W, mean active power over the interval */
  powerW: number;
  /** V */
  voltageV?: number;
  /** A */
  currentA?: number;
  events?: (typeof METER_EVENTS)[number][];
}

export interface DispenserReading extends Base {
  nozzle: number;
  /** L, this transaction's volume as indicated */
  volumeL: number;
  /** L, the nozzle's cumulative totaliser after the transaction */
  totalizerL: number;
  /** pulse count of the transaction */
  pulses: number;
  /** °C, fuel temperature */
  temperatureC: number;
  events?: (typeof DISPENSER_EVENTS)[number][];
}

export interface TankReading extends Base {
  /** mm, product level */
  levelMm: number;
  /** L, gauge volume at observed temperature */
  volumeL: number;
  /** °C */
  temperatureC: number;
  /** L, delivered into the tank since the previous reading */
  deliveryL?: number;
}

export interface ScaleReading extends Base {
  /** kg, no-load indication */
  zeroKg: number;
  /** kg, reference mass of a check weight, when a check was done */
  checkRefKg?: number;
  /** kg, the scale's indication of that check weight */
  checkIndicatedKg?: number;
  /** degrees from level */
  tiltDeg?: number;
  events?: (typeof SCALE_EVENTS)[number][];
}

export interface ReadingByKind {
  meter: MeterReading;
  dispenser: DispenserReading;
  tank: TankReading;
  scale: ScaleReading;
}
export type AnyReading = ReadingByKind[Kind];

/** The numeric fields each kind stores (everything but ts, seq and events). */
export const FIELDS: { readonly [K in Kind]: readonly string[] } = {
  meter: ['energyWh', 'powerW', 'voltageV', 'currentA'],
  dispenser: ['nozzle', 'volumeL', 'totalizerL', 'pulses', 'temperatureC'],
  tank: ['levelMm', 'volumeL', 'temperatureC', 'deliveryL'],
  scale: ['zeroKg', 'checkRefKg', 'checkIndicatedKg', 'tiltDeg'],
};

/** A validated reading as ingest hands it on: to the store and to analytics. */
export interface Accepted {
  deviceId: string;
  kind: Kind;
  region: Region;
  /** the partition key: transformer area, station or market */
  site: string;
  /** ms, device clock */
  ts: number;
  seq: number;
  /** ms, broker receive time (platform clock) */
  receivedAt: number;
  fields: Record<string, number>;
  events: string[];
}
