import type { Kind } from '../ingest/readings.js';
import { hash01, type Rng } from './rng.js';
import type { FaultKind, FaultSpec, FaultType } from './scenario.js';
import { DAY_MS, YEAR_MS, localDay } from './time.js';

/** One fault of one device as ground truth records it. Times are true (not device-clock) ms. */
export interface FaultInfo {
  type: FaultType;
  /** ms, onset */
  startMs: number;
  /** ms, end of an outage (offline); null when the fault lasts */
  endMs: number | null;
  /** fraction per year, signed (drift) */
  ratePerYear?: number;
  /**
   * fraction, signed: step size; tamper effect on the indication (meter bypass negative,
   * dispenser pulse manipulation and scale cheat chip positive); for a tank, the leak as a
   * fraction of the tank's mean throughput
   */
  size?: number;
  /** measurement-noise multiplier (noise) */
  noiseFactor?: number;
  /** ms, device clock minus true time (clockSkew) */
  skewMs?: number;
  /** tamper switched on and off day by day (dispensers: absent on some days, as during test draws) */
  intermittent?: boolean;
}

/**
 * Nominal MPE (fraction) the simulator uses only to size healthy devices' base errors. The
 * analytics' real MPE table is elsewhere; truth.ts takes it as an argument.
 * Meters: class 0.5S ±0.5 % (IEC 62053-22), 1/B ±1 %, 2/A ±2 % (IEC 62053-21, MID MI-003 Table 2).
 * Dispensers: ±0.30 % (JJG 443-2023). Scales: class III at 10 kg with e = 10 g is 1000 e, in service
 * ±2 e = ±0.2 % (OIML R 76-1 Table 6, doubled in service). Tank gauges: ±0.5 % of volume, a
 * simulator assumption (level gauges are specified in mm, OIML R 85).
 */
export function nominalMpe(kind: Kind, accuracyClass: string): number {
  switch (kind) {
    case 'meter':
      return accuracyClass === '0.5S' ? 0.005 : accuracyClass === '1' || accuracyClass === 'B' ? 0.01 : 0.02;
    case 'dispenser':
      return 0.003;
    case 'scale':
      return 0.002;
    case 'tank':
      return 0.005;
  }
}

type Pair = readonly [number, number];
interface KindDefaults {
  /** %/year */
  ratePctPerYear: Pair;
  /** % */
  stepPct: Pair;
  /** % */
  tamperPct: Pair;
  tamperSign: 1 | -1;
}

/**
 * Defaults for omitted fault parameters. Tamper sizes follow DOMAIN.md §6: meter bypass or
 * magnet under-registers 30–60 %; dispenser pulse boards 3–6 % short delivery (≈ 1 L per 20 L);
 * scale cheat chips +10…+30 %. A tank "tamper" is an unrecorded leak or theft of 0.5–2 % of the
 * tank's mean throughput.
 */
const DEFAULTS: Record<FaultKind, KindDefaults> = {
  meter: { ratePctPerYear: [1, 4], stepPct: [2, 5], tamperPct: [30, 60], tamperSign: -1 },
  dispenser: { ratePctPerYear: [0.2, 0.8], stepPct: [0.3, 1], tamperPct: [3, 6], tamperSign: 1 },
  scale: { ratePctPerYear: [0.2, 1], stepPct: [0.3, 1], tamperPct: [10, 30], tamperSign: 1 },
  tank: { ratePctPerYear: [0.05, 0.3], stepPct: [0.2, 0.6], tamperPct: [0.5, 2], tamperSign: 1 },
};
const NOISE_FACTOR: Pair = [5, 10];
/** s */
const SKEW_S: Pair = [60, 900];
const OFFLINE_DAYS: Pair = [1, 5];
/**
 * Share of drifts and steps in the owner's favour (meter and dispenser over-registering, scale
 * over-weighing): NIST HB 44 treats errors predominantly in the owner's favour as a sign of poor
 * maintenance, and they are the ones that persist in the field.
 */
const OWNER_FAVOUR = 0.75;
/** Share of days an intermittent tamper is switched on. */
const TAMPER_ON_SHARE = 0.7;

/** Draws one fault of a spec for one device. */
export function drawFault(rng: Rng, spec: FaultSpec, fleetStartMs: number): FaultInfo {
  const d = DEFAULTS[spec.kind];
  const startMs = Math.round(fleetStartMs + rng.range(spec.startDay) * DAY_MS);
  const favour = (): number => (spec.kind === 'tank' ? (rng.chance(0.5) ? 1 : -1) : rng.chance(OWNER_FAVOUR) ? 1 : -1);
  switch (spec.type) {
    case 'drift':
      return { type: 'drift', startMs, endMs: null, ratePerYear: (favour() * rng.range(spec.ratePctPerYear ?? d.ratePctPerYear)) / 100 };
    case 'step':
      return { type: 'step', startMs, endMs: null, size: (favour() * rng.range(spec.sizePct ?? d.stepPct)) / 100 };
    case 'tamper':
      return {
        type: 'tamper',
        startMs,
        endMs: null,
        size: (d.tamperSign * rng.range(spec.sizePct ?? d.tamperPct)) / 100,
        intermittent: spec.kind === 'dispenser',
      };
    case 'noise':
      return { type: 'noise', startMs, endMs: null, noiseFactor: rng.range(NOISE_FACTOR) };
    case 'stuck':
      return { type: 'stuck', startMs, endMs: null };
    case 'clockSkew':
      // mostly ahead: a fast or wrongly set clock shows up as readings from the future
      return { type: 'clockSkew', startMs, endMs: null, skewMs: Math.round((rng.chance(0.7) ? 1 : -1) * rng.range(spec.skewS ?? SKEW_S) * 1000) };
    case 'offline':
      return { type: 'offline', startMs, endMs: Math.round(startMs + rng.range(spec.days ?? OFFLINE_DAYS) * DAY_MS), };
  }
}

/**
 * A device's true error over time: e(t) = base + drift + step + tamper, as a fraction
 * (indicated = true × (1 + e)), plus the functional faults (stuck, noise, clock skew, outage).
 * At most one fault of each type per device (fleet.ts assigns them so).
 */
export class ErrorModel {
  readonly #kind: Kind;
  readonly #base: number;
  readonly #key: number;
  readonly #faults: FaultInfo[] = [];
  #first = Number.POSITIVE_INFINITY;
  #driftStart = Number.POSITIVE_INFINITY;
  #driftPerMs = 0;
  #stepStart = Number.POSITIVE_INFINITY;
  #step = 0;
  #tamperStart = Number.POSITIVE_INFINITY;
  #tamper = 0;
  #tamperIntermittent = false;
  #stuckStart = Number.POSITIVE_INFINITY;
  #noiseStart = Number.POSITIVE_INFINITY;
  #noiseFactor = 1;
  #skewStart = Number.POSITIVE_INFINITY;
  #skewMs = 0;
  #offlineStart = Number.POSITIVE_INFINITY;
  #offlineEnd = Number.NEGATIVE_INFINITY;

  constructor(kind: Kind, base: number, key: number) {
    this.#kind = kind;
    this.#base = base;
    this.#key = key;
  }

  /** fraction, the healthy device's own error */
  get base(): number {
    return this.#base;
  }

  get faults(): readonly FaultInfo[] {
    return this.#faults;
  }

  has(type: FaultType): boolean {
    return this.#faults.some((f) => f.type === type);
  }

  add(f: FaultInfo): void {
    this.#faults.push(f);
    switch (f.type) {
      case 'drift':
        this.#driftStart = f.startMs;
        this.#driftPerMs = (f.ratePerYear ?? 0) / YEAR_MS;
        break;
      case 'step':
        this.#stepStart = f.startMs;
        this.#step = f.size ?? 0;
        break;
      case 'tamper':
        this.#tamperStart = f.startMs;
        this.#tamper = f.size ?? 0;
        this.#tamperIntermittent = f.intermittent === true;
        break;
      case 'stuck':
        this.#stuckStart = f.startMs;
        break;
      case 'noise':
        this.#noiseStart = f.startMs;
        this.#noiseFactor = f.noiseFactor ?? 1;
        break;
      case 'clockSkew':
        this.#skewStart = f.startMs;
        this.#skewMs = f.skewMs ?? 0;
        break;
      case 'offline':
        this.#offlineStart = f.startMs;
        this.#offlineEnd = f.endMs ?? f.startMs;
        break;
    }
    // A tank's tamper is a leak, not an indication error.
    const touchesError = f.type === 'drift' || f.type === 'step' || (f.type === 'tamper' && this.#kind !== 'tank');
    if (touchesError) this.#first = Math.min(this.#first, f.startMs);
  }

  /** fraction: systematic relative error of the indication at true time t (ms) */
  errorAt(t: number): number {
    if (t < this.#first) return this.#base;
    let e = this.#base;
    if (t > this.#driftStart) e += this.#driftPerMs * (t - this.#driftStart);
    if (t >= this.#stepStart) e += this.#step;
    if (this.#kind !== 'tank' && this.tamperOn(t)) e += this.#tamper;
    return e;
  }

  /** whether the tamper is active at t (ms); intermittent ones are on for the onset day and ~70 % of days after */
  tamperOn(t: number): boolean {
    if (t < this.#tamperStart) return false;
    if (!this.#tamperIntermittent) return true;
    const day = localDay(t);
    return day === localDay(this.#tamperStart) || hash01(this.#key, day) < TAMPER_ON_SHARE;
  }

  /** fraction, signed tamper effect (0 without a tamper fault) */
  get tamperSize(): number {
    return this.#tamper;
  }

  /** ms, tamper onset (Infinity without one) */
  get tamperStartMs(): number {
    return this.#tamperStart;
  }

  stuckAt(t: number): boolean {
    return t >= this.#stuckStart;
  }

  /** multiplier on the kind's measurement noise */
  noiseAt(t: number): number {
    return t >= this.#noiseStart ? this.#noiseFactor : 1;
  }

  /** ms, device clock minus true time */
  skewAt(t: number): number {
    return t >= this.#skewStart ? this.#skewMs : 0;
  }

  /** whether the device is out of contact at true time t (ms); it buffers and backfills afterwards */
  offlineAt(t: number): boolean {
    return t >= this.#offlineStart && t < this.#offlineEnd;
  }

  /** ms, end of the outage (−Infinity without one) */
  get offlineEndMs(): number {
    return this.#offlineEnd;
  }
}
