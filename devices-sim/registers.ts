import type { AnyReading } from '../ingest/readings.js';
import type { SimDevice } from './fleet.js';

/**
 * Per-device counters of a running simulation, in typed arrays indexed by SimDevice.index so
 * the hot loop touches no Map and allocates nothing.
 */
export class Registers {
  /** last seq published per device (the next reading gets seq + 1, so seq starts at 1) */
  readonly seq: Float64Array;
  /** indicated cumulative register: Wh (meters), L (dispenser totalisers) */
  readonly indicated: Float64Array;
  /** true quantity since the simulation started: Wh consumed (meters), L dispensed (dispensers), L delivered into the tank (tanks) */
  readonly truth: Float64Array;

  constructor(devices: readonly SimDevice[]) {
    this.seq = new Float64Array(devices.length);
    this.indicated = Float64Array.from(devices, (d) => d.initialRegister);
    this.truth = new Float64Array(devices.length);
  }
}

/**
 * Receives each generated reading: the device, the reading exactly as the device publishes it
 * (ts on the device clock), and the true time of the measurement in ms (differs from ts under
 * a clock-skew fault; tells a transport whether the device was offline then).
 */
export type Emit = (device: SimDevice, reading: AnyReading, trueMs: number) => void;

/** One site's simulation: processes the step (nextMs − stepMs, nextMs] and advances nextMs. */
export interface SiteSim {
  /** ms, end of the next step to simulate */
  readonly nextMs: number;
  /** ms */
  readonly stepMs: number;
  /** simulates one step; returns the number of readings emitted */
  step(emit: Emit): number;
}

/** rounding to the resolution devices report */
export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round2 = (x: number): number => Math.round(x * 100) / 100;
export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
