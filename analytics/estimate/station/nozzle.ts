import type { StationOptions } from './options.js';
import { SIGN_CODES, type StationSignCode } from './signs.js';

/** Event names as dispensers publish them (ingest/readings.ts DISPENSER_EVENTS), by slot. */
const EVENT_SLOT: Readonly<Record<string, number>> = { seal_open: 0, param_change: 1, firmware_change: 2, auth_fail: 3, self_lock: 4, power_cycle: 5 };
const SEAL = 0;
const PARAM = 1;
const FIRMWARE = 2;
const AUTH = 3;
const LOCK = 4;

export type SignSink = (deviceId: string, ts: number, code: StationSignCode) => void;

/**
 * One nozzle's own-data checks, in fixed-shape state: K-factor, totaliser and events
 * (DOMAIN.md §6). Reconciliation lives in reconcile.ts; this class also keeps what the daily
 * emission needs (last error, peer and event bookkeeping).
 */
export class NozzleState {
  readonly id: string;
  /** index of the nozzle within its tank */
  readonly j: number;
  /** fraction, in-service MPE (NaN: no table entry, no error samples) */
  readonly mpe: number;
  /** pulses per litre converting pulses to mechanical volume: the registry's, else the first transaction's */
  kRef: number;
  readonly #o: StationOptions;
  readonly #kSeen: Float64Array;
  #kCount = 0;
  /** pulses per indicated litre learnt from the first transactions (median); NaN until then */
  kNominal = Number.NaN;
  #kRun = 0;
  #kBackRun = 0;
  #kChanged = false;
  #lastSeq = -1;
  #lastTot = Number.NaN;
  #mismatchRun = 0;
  #stuckRun = 0;
  readonly #events = new Float64Array(6).fill(-Infinity);
  /** ms, event time until which an error change counts as following an event */
  armedUntil = -Infinity;
  /** error (fraction) and its sd before the arming event */
  preE = Number.NaN;
  preSd = Number.NaN;
  /** the last emitted error and sd (fractions) */
  lastE = Number.NaN;
  lastSd = Number.NaN;
  peerRun = 0;
  /** transactions received, and the station's count when the newest arrived (offline detection) */
  txCount = 0;
  stationCountAtLast = 0;
  /** ms, newest transaction time received */
  lastTs = -Infinity;
  readonly signAt: Float64Array;

  constructor(id: string, j: number, mpe: number, kFactor: number, opts: StationOptions) {
    this.id = id;
    this.j = j;
    this.mpe = mpe;
    this.kRef = kFactor > 0 ? kFactor : Number.NaN;
    this.#o = opts;
    this.#kSeen = new Float64Array(opts.kLearn);
    this.signAt = new Float64Array(SIGN_CODES.length).fill(-Infinity);
  }

  /**
   * K-factor: pulses per indicated litre is fixed by the calculator's pulse equivalent, so it
   * moves only when that is changed (calibration or fraud). A deviation beyond kTolerance on
   * kSustain transactions in a row is a sign; one per change, re-armed once K is back.
   */
  checkK(ts: number, volumeL: number, pulses: number, sign: SignSink): void {
    if (!(pulses > 0) || !(volumeL >= this.#o.kMinVolumeL)) return;
    const k = pulses / volumeL;
    if (Number.isNaN(this.kNominal)) {
      this.#kSeen[this.#kCount++] = k;
      if (this.#kCount === this.#kSeen.length) {
        this.#kSeen.sort();
        const mid = this.#kSeen.length >> 1;
        this.kNominal = this.#kSeen.length % 2 === 1 ? (this.#kSeen[mid] as number) : ((this.#kSeen[mid - 1] as number) + (this.#kSeen[mid] as number)) / 2;
      }
      return;
    }
    // quantisation: one pulse, and 0.005 L of indication rounding
    const tol = this.#o.kTolerance + 1 / pulses + 0.005 / volumeL;
    if (Math.abs(k / this.kNominal - 1) > tol) {
      this.#kBackRun = 0;
      if (++this.#kRun >= this.#o.kSustain && !this.#kChanged) {
        this.#kChanged = true;
        sign(this.id, ts, 'kfactor_change');
      }
    } else {
      this.#kRun = 0;
      if (this.#kChanged && ++this.#kBackRun >= this.#o.kSustain) this.#kChanged = false;
    }
  }

  /**
   * Totaliser: between consecutive transactions (consecutive seq) it must advance by the
   * transaction's volume, within two roundings. Across a seq gap the comparison is skipped
   * (the missing transactions may still arrive) and the reference re-based.
   */
  checkTotalizer(ts: number, seq: number, volumeL: number, totalizerL: number, sign: SignSink): void {
    if (!Number.isFinite(totalizerL)) return;
    if (seq <= this.#lastSeq) return;
    const consecutive = seq === this.#lastSeq + 1 && !Number.isNaN(this.#lastTot);
    const d = totalizerL - this.#lastTot;
    this.#lastSeq = seq;
    this.#lastTot = totalizerL;
    if (!consecutive) return;
    const need = this.#o.totalizerSustain;
    if (volumeL > 0 && d === 0) {
      this.#mismatchRun = 0;
      if (++this.#stuckRun === need) sign(this.id, ts, 'totalizer_stuck');
    } else if (Math.abs(d - volumeL) > this.#o.totalizerTolL + 1e-9 * Math.abs(totalizerL)) {
      this.#stuckRun = 0;
      if (++this.#mismatchRun === need) sign(this.id, ts, 'totalizer_mismatch');
    } else {
      this.#stuckRun = 0;
      this.#mismatchRun = 0;
    }
  }

  /**
   * Events. On their own, seal, parameter and firmware events are routine (price changes,
   * verification visits), so alone they raise nothing. Two kinds of evidence make them a sign:
   * - a combination within eventWindowMs: seal opened and a parameter or firmware change (the
   *   metrological parameters can only be altered with the seal broken, JJG 443-2023 seal
   *   points), or an authentication failure with a self-lock, parameter or firmware change
   *   (encoder swapped or spoofed) → 'events';
   * - an error change after any of them: the event arms the nozzle for armMs and the daily
   *   emission compares the error with the one before (station.ts) → 'event_error_change'.
   * power_cycle never counts: outages are common and innocent.
   */
  onEvents(ts: number, events: readonly string[], sign: SignSink): void {
    let arm = false;
    let combo = false;
    const ev = this.#events;
    for (let i = 0; i < events.length; i++) {
      const slot = EVENT_SLOT[events[i] as string];
      if (slot === undefined) continue;
      if (ts > (ev[slot] as number)) ev[slot] = ts;
      if (slot <= LOCK) arm = true;
    }
    if (!arm) return;
    const w = this.#o.eventWindowMs;
    const near = (a: number, b: number): boolean => Math.abs((ev[a] as number) - (ev[b] as number)) <= w && Math.abs(ts - (ev[a] as number)) <= w;
    combo = near(SEAL, PARAM) || near(SEAL, FIRMWARE) || near(AUTH, LOCK) || near(AUTH, PARAM) || near(AUTH, FIRMWARE);
    if (combo) sign(this.id, ts, 'events');
    if (ts > this.armedUntil) {
      this.preE = this.lastE;
      this.preSd = this.lastSd;
    }
    this.armedUntil = Math.max(this.armedUntil, ts + this.#o.armMs);
  }
}
