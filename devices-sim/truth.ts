import { writeFile } from 'node:fs/promises';
import type { Kind } from '../ingest/readings.js';
import { SimErrors } from './errors.js';
import type { FaultInfo } from './faults.js';
import { SCALE_NOISE_KG, type Fleet, type SimDevice } from './fleet.js';
import { DAY_MS, HOUR_MS } from './time.js';

/** The MPE to judge a device's true error against, as a fraction (analytics supplies its table). */
export type MpeOf = (device: SimDevice) => number;

/**
 * kg: the most a device's random error (1σ of one indication) may be and still meet its
 * repeatability requirement, given its MPE; null where repeatability is not judged.
 */
export type RepeatSdOf = (device: SimDevice, mpe: number) => number | null;

export interface TruthOptions {
  mpeOf: MpeOf;
  /** when set, a device whose random error exceeds it counts out of tolerance from then on */
  repeatSdOf?: RepeatSdOf;
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
  /** ms, first time the device is out of tolerance within the span (Truth.outOfToleranceAt, hourly resolution), null if never */
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
   * true time (ms) from which the device is out of tolerance: |true error| beyond `mpe` (scanned in
   * steps of stepMs), or — with `repeatSdKg` (RepeatSdOf) — a scale's random error (1σ of one
   * indication, kg) beyond it, from the fault onset that brings it there; the earlier of the two,
   * null if neither happens in [fromMs, toMs]
   */
  outOfToleranceAt(id: string, mpe: number, repeatSdKg: number | null, fromMs: number, toMs: number, stepMs: number): number | null;
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
  /** the scale's random error is piecewise constant, changing only at its faults' onsets */
  const noisyFrom = (d: SimDevice, limitSdKg: number, fromMs: number, toMs: number): number | null => {
    if (d.kind !== 'scale') return null;
    const times = [fromMs, ...d.error.faults.map((f) => f.startMs).filter((t) => t > fromMs && t <= toMs)].sort((a, b) => a - b);
    for (const t of times) if (SCALE_NOISE_KG * d.error.noiseAt(t) > limitSdKg) return t;
    return null;
  };
  const outOfTolerance = (d: SimDevice, mpe: number, repeatSdKg: number | null, fromMs: number, toMs: number, stepMs: number): number | null => {
    const error = crossing(d, mpe, fromMs, toMs, stepMs);
    const noise = repeatSdKg === null ? null : noisyFrom(d, repeatSdKg, fromMs, toMs);
    if (error === null) return noise;
    return noise === null ? error : Math.min(error, noise);
  };

  return {
    faultsOf: (id) => device(id).error.faults,
    trueErrorAt: (id, ts) => errorAt(device(id), ts),
    crossingAt: (id, mpe, fromMs, toMs, stepMs) => crossing(device(id), mpe, fromMs, toMs, stepMs),
    outOfToleranceAt: (id, mpe, repeatSdKg, fromMs, toMs, stepMs) => outOfTolerance(device(id), mpe, repeatSdKg, fromMs, toMs, stepMs),
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
        t.mpeCrossingMs = outOfTolerance(d, mpe, opts.repeatSdOf?.(d, mpe) ?? null, fromMs, toMs, HOUR_MS);
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
