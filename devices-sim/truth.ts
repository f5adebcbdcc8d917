import { writeFile } from 'node:fs/promises';
import type { Kind } from '../ingest/readings.js';
import { SimErrors } from './errors.js';
import type { FaultInfo } from './faults.js';
import { SCALE_NOISE_KG, type Fleet, type SimDevice } from './fleet.js';
import { DAY_MS, HOUR_MS } from './time.js';

/** The MPE to judge a device's true error against, as a fraction (analytics supplies its table). */
export type MpeOf = (device: SimDevice) => number;

export interface TruthOptions {
  mpeOf: MpeOf;
  /** ms, default the fleet's start */
  fromMs?: number;
  /** ms, default the fleet's end */
  toMs?: number;
}

export interface DeviceTruth {
  id: string;
  kind: Kind;
  site: string;
  role: string;
  accuracyClass: string;
  /** fraction, the healthy error */
  baseError: number;
  faults: FaultInfo[];
  /** fraction, as mpeOf gave it */
  mpe: number;
  /** ms, first time |e| exceeds the MPE within the span (hourly resolution), null if never */
  mpeCrossingMs: number | null;
  /** fraction, true error at each local day's start from `fromMs`; only devices with faults carry it */
  daily?: number[];
}

export interface TruthReport {
  seed: number;
  /** ms */
  fromMs: number;
  /** ms */
  toMs: number;
  /** ms, spacing of each device's `daily` series */
  dailyStepMs: number;
  devices: DeviceTruth[];
}

/**
 * Ground truth of a fleet: each device's faults and its true relative error at any true time.
 * `ts` here is true time; a clock-skewed device stamps its readings ts + skew.
 */
export interface Truth {
  faultsOf(id: string): readonly FaultInfo[];
  /**
   * fraction: the systematic relative error of the device's primary indication at true time
   * ts (ms): energy for meters (−1 once stuck: the register no longer advances), the
   * transaction volume for dispensers, the level for tank gauges, the check-weight indication
   * for scales. Random measurement noise is not included.
   */
  trueErrorAt(id: string, ts: number): number;
  /** true time (ms) at which |true error| first exceeds `mpe`, scanning [fromMs, toMs] in steps of stepMs; null if never */
  crossingAt(id: string, mpe: number, fromMs: number, toMs: number, stepMs: number): number | null;
  /**
   * true time (ms) from which a scale's random error (1σ of one indication, kg) exceeds
   * `limitSdKg`, scanning [fromMs, toMs] at the device's fault onsets; null if never or not a scale
   */
  randomErrorExceedsAt(id: string, limitSdKg: number, fromMs: number, toMs: number): number | null;
  /** devices with at least one fault */
  faulty(): readonly SimDevice[];
  report(opts: TruthOptions): TruthReport;
}

export function createTruth(fleet: Fleet): Truth {
  const device = (id: string): SimDevice => {
    const d = fleet.byId.get(id);
    if (!d) throw SimErrors.make('SIM_DEVICE_UNKNOWN', id);
    return d;
  };
  const errorAt = (d: SimDevice, ts: number): number => (d.kind === 'meter' && d.error.stuckAt(ts) ? -1 : d.error.errorAt(ts));
  const faulty = fleet.devices.filter((d) => d.error.faults.length > 0);
  const crossing = (d: SimDevice, mpe: number, fromMs: number, toMs: number, stepMs: number): number | null => {
    for (let ts = fromMs; ts <= toMs; ts += stepMs) if (Math.abs(errorAt(d, ts)) > mpe) return ts;
    return null;
  };

  return {
    faultsOf: (id) => device(id).error.faults,
    trueErrorAt: (id, ts) => errorAt(device(id), ts),
    crossingAt: (id, mpe, fromMs, toMs, stepMs) => crossing(device(id), mpe, fromMs, toMs, stepMs),
    randomErrorExceedsAt(id, limitSdKg, fromMs, toMs) {
      const d = device(id);
      if (d.kind !== 'scale') return null;
      const times = [fromMs, ...d.error.faults.map((f) => f.startMs).filter((t) => t > fromMs && t <= toMs)].sort((a, b) => a - b);
      for (const t of times) if (SCALE_NOISE_KG * d.error.noiseAt(t) > limitSdKg) return t;
      return null;
    },
    faulty: () => faulty,
    report(opts) {
      const fromMs = opts.fromMs ?? fleet.startMs;
      const toMs = opts.toMs ?? fleet.endMs;
      const devices = fleet.devices.map((d): DeviceTruth => {
        const mpe = opts.mpeOf(d);
        const t: DeviceTruth = {
          id: d.id,
          kind: d.kind,
          site: d.site,
          role: d.record.role,
          accuracyClass: d.record.accuracyClass,
          baseError: d.error.base,
          faults: d.error.faults.map((f) => ({ ...f })),
          mpe,
          mpeCrossingMs: null,
        };
        if (d.error.faults.length === 0) {
          if (Math.abs(d.error.base) > mpe) t.mpeCrossingMs = fromMs;
          return t;
        }
        t.mpeCrossingMs = crossing(d, mpe, fromMs, toMs, HOUR_MS);
        const daily: number[] = [];
        for (let ts = fromMs; ts <= toMs; ts += DAY_MS) daily.push(errorAt(d, ts));
        t.daily = daily;
        return t;
      });
      return { seed: fleet.seed, fromMs, toMs, dailyStepMs: DAY_MS, devices };
    },
  };
}

/** Writes the truth report as JSON to `path`. */
export async function writeTruth(truth: Truth, path: string, opts: TruthOptions): Promise<void> {
  await writeFile(path, `${JSON.stringify(truth.report(opts))}\n`);
}
