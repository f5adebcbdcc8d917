import type { Accepted } from '../../ingest/readings.js';
import type { Device } from '../../registry/registry.js';
import { relativeMpe } from '../mpe/mpe.js';
import { NozzleState, type SignSink } from './station/nozzle.js';
import { stationOptions, type StationOptions } from './station/options.js';
import { KL, TankReconciler } from './station/reconcile.js';
import { SIGN_INDEX, STATION_SIGNS, type StationSignCode } from './station/signs.js';
import { levelSensitivity, toRef } from './station/thermal.js';
import type { SiteEstimator, SiteOutput, TamperSign } from './types.js';

export { STATION_DEFAULTS, type StationOptions } from './station/options.js';
export { STATION_SIGNS, type StationSignCode } from './station/signs.js';

const DAY = 86_400_000;
/** days an unrecorded loss must persist before a sign */
const LOSS_DAYS = 4;

class TankSlot {
  readonly tankNo: number;
  readonly gaugeId: string | null;
  /** 1/°C */
  readonly beta: number;
  readonly sens: ((levelMm: number) => number) | null;
  readonly nozzles: NozzleState[] = [];
  rec: TankReconciler | null = null;
  /** °C, newest gauge temperature (for a transaction that lacks its own) */
  lastTempC = 15;
  /** local day number being accumulated (NaN before the first reconciled reading) */
  day = Number.NaN;
  lossSignAt = -Infinity;
  lossRun = 0;
  /** per nozzle, scratch for the daily peer comparison */
  dayE = new Float64Array(0);
  /** per nozzle, d(error)/dθ of the day's estimate */
  dayA = new Float64Array(0);
  /** nozzles with an estimate today, in the order of their errors */
  peerIdx = new Int32Array(0);
  constructor(tankNo: number, gauge: Device | undefined, defaultBeta: number) {
    this.tankNo = tankNo;
    this.gaugeId = gauge?.id ?? null;
    const beta = gauge?.params['thermalExpansionPerC'];
    this.beta = beta !== undefined && beta > 0 && beta < 0.01 ? beta : defaultBeta;
    this.sens = levelSensitivity(gauge?.params['capacityL'], gauge?.params['diameterMm']);
  }
}

type Route = { tank: TankSlot; nozzle: NozzleState | null };

/**
 * Variance of nozzle j's error less the mean of nozzles lo's and hi's (the tank's median), the
 * errors linearised in θ (error = ratio/θ − 1) under the reconciliation's covariance of θ.
 */
function peerDiffVariance(t: TankSlot, rec: TankReconciler, j: number, lo: number, hi: number): number {
  // coefficients of θ_j, θ_lo, θ_hi (lo and hi may be one nozzle, or j itself)
  const aj = t.dayA[j] as number;
  const al = -0.5 * (t.dayA[lo] as number);
  const ah = -0.5 * (t.dayA[hi] as number);
  const v =
    aj * aj * rec.thetaVar(j) + al * al * rec.thetaVar(lo) + ah * ah * rec.thetaVar(hi) +
    2 * (aj * al * rec.thetaCov(j, lo) + aj * ah * rec.thetaCov(j, hi) + al * ah * rec.thetaCov(lo, hi));
  return Math.max(0, v);
}

export interface NozzleEstimate {
  /** fraction, indicated / true − 1 over the latest reconciled day */
  error: number;
  /** standard uncertainty of error, fraction */
  sd: number;
}

export interface StationStats {
  readings: number;
  ignored: number;
  /** gauge readings reconciled (equations) and cycles opened */
  equations: number;
  cycles: number;
  deliveries: number;
  outliers: number;
  lateRestarts: number;
  lateClosed: number;
  droppedGauges: number;
  /** gauge readings reconciled without waiting longer for a nozzle that looked offline */
  holdExpired: number;
  /** nozzles re-opened after a step in their error */
  steps: number;
}

export interface StationEstimator extends SiteEstimator {
  /** current estimate of a nozzle's error (null before reconciliation reached it) */
  estimate(deviceId: string): NozzleEstimate | null;
  /** L/h unrecorded loss of a tank gauge's tank and its sd, and the gauge's level error (fraction) */
  tank(gaugeId: string): { lossLph: number; lossSdLph: number; gaugeError: number; noiseL: number } | null;
  stats(): StationStats;
}

/**
 * The fuel-station estimator: per tank, reconciliation of gauge volumes with the nozzles'
 * dispensed volumes (station/reconcile.ts) gives each nozzle's error; per nozzle, K-factor,
 * totaliser and event checks (station/nozzle.ts) give tamper signs; peers on one tank are
 * compared once a day. `add` is O(1) amortised and allocates nothing but queue growth and signs.
 *
 * Registry conventions: gauge kind 'tank', params {tank, thermalExpansionPerC?, capacityL?,
 * diameterMm?}; nozzle kind 'dispenser', params {nozzle, tank, kFactor?}.
 *
 * Completeness: a gauge reading at t is reconciled once the station's newest gauge time is
 * lagMs past t, and no nozzle of its tank looks offline at t. A nozzle looks offline when, from
 * its share of the station's transactions, more than silentExpected of its transactions are
 * missing since its newest one (arrival counts: P(no transaction) < e⁻¹²). The tank then waits
 * for the backfill, at most maxHoldMs; see reconcile.ts for transactions that still come late.
 *
 * Samples: once per nozzle per local day with transactions, at the day's end (event time), when
 * the sd is below maxSdRatio × MPE.
 */
export function createStationEstimator(site: string, devices: readonly Device[], opts: Partial<StationOptions> = {}): StationEstimator {
  const o = stationOptions(opts);
  const tanks = new Map<number, TankSlot>();
  const routes = new Map<string, Route>();
  const gauges = devices.filter((d) => d.site === site && d.kind === 'tank');
  const nozzles = devices.filter((d) => d.site === site && d.kind === 'dispenser');
  const tankOf = (no: number, gauge?: Device): TankSlot => {
    let t = tanks.get(no);
    if (!t) tanks.set(no, (t = new TankSlot(no, gauge, o.defaultBeta)));
    return t;
  };
  for (const g of gauges) routes.set(g.id, { tank: tankOf(g.params['tank'] ?? 0, g), nozzle: null });
  for (const d of nozzles) {
    const t = tankOf(d.params['tank'] ?? 0);
    const mpe = relativeMpe({ kind: d.kind, accuracyClass: d.accuracyClass, params: d.params })?.mpe ?? Number.NaN;
    const nz = new NozzleState(d.id, t.nozzles.length, mpe, d.params['kFactor'] ?? 0, o);
    t.nozzles.push(nz);
    routes.set(d.id, { tank: t, nozzle: nz });
  }
  const slots = [...tanks.values()];
  for (const t of slots) {
    if (t.gaugeId !== null && t.nozzles.length > 0) t.rec = new TankReconciler(t.nozzles.length, o);
    t.dayE = new Float64Array(t.nozzles.length);
    t.dayA = new Float64Array(t.nozzles.length);
    t.peerIdx = new Int32Array(t.nozzles.length);
  }

  const pending: TamperSign[] = [];
  /** ms, newest gauge time of the station: its event-time clock */
  let watermark = -Infinity;
  let stationTx = 0;
  let readings = 0;
  let ignored = 0;
  let holdExpired = 0;

  const push = (deviceId: string, ts: number, code: StationSignCode): void => {
    const text = STATION_SIGNS[code];
    pending.push({ deviceId, ts, code, zh: text.zh, en: text.en });
  };
  const nozzleSign: SignSink = (deviceId, ts, code) => {
    const nz = routes.get(deviceId)?.nozzle;
    if (!nz) return;
    const i = SIGN_INDEX[code];
    if (ts - (nz.signAt[i] as number) < o.signCooldownMs) return;
    nz.signAt[i] = ts;
    push(deviceId, ts, code);
  };

  const localDay = (ts: number): number => Math.floor((ts + o.dayOffsetMs) / DAY);

  /** a nozzle of the tank that looks offline with its newest transaction before t */
  const held = (t: TankSlot, ts: number): boolean => {
    for (const nz of t.nozzles) {
      if (nz.lastTs >= ts || nz.txCount === 0) continue;
      const share = nz.txCount / stationTx;
      if (share >= 1) continue;
      const missing = ((stationTx - nz.stationCountAtLast) * share) / (1 - share);
      if (missing > o.silentExpected) return true;
    }
    return false;
  };

  const emitDay = (t: TankSlot, rec: TankReconciler, dayEnd: number, out: SiteOutput): void => {
    const n = t.nozzles.length;
    let count = 0;
    for (let j = 0; j < n; j++) {
      const nz = t.nozzles[j] as NozzleState;
      t.dayE[j] = Number.NaN;
      const mech = rec.dayMech[j] as number;
      if (!(mech > 0) || !(nz.mpe > 0)) continue;
      const ratio = (rec.dayInd[j] as number) / mech;
      const theta = rec.theta(j);
      const e = ratio / theta - 1;
      const sd = (ratio * Math.sqrt(rec.thetaVar(j))) / (theta * theta);
      if (!(sd < o.maxSdRatio * nz.mpe)) continue;
      t.dayE[j] = e;
      t.dayA[j] = -ratio / (theta * theta);
      count++;
      out.sample({ deviceId: nz.id, ts: dayEnd, ratio: e / nz.mpe, sd: sd / nz.mpe, error: e, innovationZ: rec.innovation(j) });
      if (dayEnd <= nz.armedUntil + DAY && Number.isFinite(nz.preE) && Number.isFinite(nz.preSd)) {
        const change = Math.abs(e - nz.preE);
        if (change > 3 * Math.hypot(sd, nz.preSd) && change > nz.mpe / 3) {
          nozzleSign(nz.id, dayEnd, 'event_error_change');
          nz.armedUntil = -Infinity;
        }
      }
      nz.lastE = e;
      nz.lastSd = sd;
    }
    // peers on the same tank: the gauge's own error is common to all and cancels here. The
    // reference is the tank's median (one bad nozzle does not drag the rest); with only two
    // nozzles the pair cannot say which one is off, so only the one farther from zero is signed.
    // The nozzles' estimates come from one regression and are far from independent (a step in
    // one is, for a while, partly taken up by its peers, pushing their estimates the other way):
    // the difference is judged by its variance under the regression's own covariance.
    if (count >= 2) {
      let k = 0;
      for (let i = 0; i < n; i++) if (!Number.isNaN(t.dayE[i] as number)) t.peerIdx[k++] = i;
      const idx = t.peerIdx.subarray(0, k).sort((a, b) => (t.dayE[a] as number) - (t.dayE[b] as number));
      const lo = idx[(k - 1) >> 1] as number;
      const hi = idx[k >> 1] as number;
      const ref = ((t.dayE[lo] as number) + (t.dayE[hi] as number)) / 2;
      for (let j = 0; j < n; j++) {
        const nz = t.nozzles[j] as NozzleState;
        const e = t.dayE[j] as number;
        if (Number.isNaN(e)) continue;
        const diff = e - ref;
        const sdDiff = Math.sqrt(peerDiffVariance(t, rec, j, lo, hi));
        const farther = k > 2 || Math.abs(e) > Math.abs(ref);
        // and the nozzle must itself be off, beyond its MPE: where most of a tank's nozzles are
        // faulty the median is one of them, and a sound nozzle deviates from it
        const off = Math.abs(e) > nz.mpe;
        if (farther && off && Math.abs(diff) > nz.mpe && Math.abs(diff) > 3 * sdDiff) {
          if (++nz.peerRun >= o.peerDays) nozzleSign(nz.id, dayEnd, 'peer_deviation');
        } else nz.peerRun = 0;
      }
    }
    const loss = rec.lossLph;
    // a nozzle's step is briefly taken up by the loss term before the CUSUM re-opens the nozzle:
    // a loss counts only when it holds for LOSS_DAYS days running
    t.lossRun = loss > o.lossSignLph && loss > 3 * rec.lossSdLph ? t.lossRun + 1 : 0;
    if (t.gaugeId !== null && t.lossRun >= LOSS_DAYS && dayEnd - t.lossSignAt >= o.signCooldownMs) {
      t.lossSignAt = dayEnd;
      push(t.gaugeId, dayEnd, 'tank_loss');
    }
    rec.resetDay();
  };

  return {
    add(r: Accepted): void {
      readings++;
      const route = routes.get(r.deviceId);
      if (!route) {
        ignored++;
        return;
      }
      const t = route.tank;
      const f = r.fields;
      const nz = route.nozzle;
      if (nz === null) {
        const vol = f['volumeL'];
        const temp = f['temperatureC'] ?? t.lastTempC;
        if (vol === undefined || !t.rec) return;
        t.lastTempC = temp;
        const level = f['levelMm'];
        const u = t.sens !== null && level !== undefined ? toRef(t.sens(level), temp, t.beta) : 0;
        t.rec.addGauge(r.ts, toRef(vol, temp, t.beta) / KL, u / KL, (f['deliveryL'] ?? 0) > 0);
        if (r.ts > watermark) watermark = r.ts;
        return;
      }
      const vol = f['volumeL'];
      if (vol === undefined) return;
      const pulses = f['pulses'] ?? 0;
      stationTx++;
      nz.txCount++;
      nz.stationCountAtLast = stationTx;
      if (r.ts > nz.lastTs) nz.lastTs = r.ts;
      if (Number.isNaN(nz.kRef) && pulses > 0 && vol > 0) nz.kRef = pulses / vol;
      nz.checkK(r.ts, vol, pulses, nozzleSign);
      nz.checkTotalizer(r.ts, r.seq, vol, f['totalizerL'] ?? Number.NaN, nozzleSign);
      if (r.events.length > 0) nz.onEvents(r.ts, r.events, nozzleSign);
      if (!t.rec) return;
      const mech = pulses > 0 && nz.kRef > 0 ? pulses / nz.kRef : vol;
      const temp = f['temperatureC'] ?? t.lastTempC;
      t.rec.addTx(r.ts, nz.j, toRef(mech, temp, t.beta) / KL, vol, mech);
    },

    flush(out: SiteOutput): void {
      const ready = watermark - o.lagMs;
      const forced = watermark - o.maxHoldMs;
      for (const t of slots) {
        const rec = t.rec;
        if (!rec) continue;
        for (let ts = rec.nextTs(); ts <= ready; ts = rec.nextTs()) {
          if (ts > forced && held(t, ts)) break;
          if (ts <= forced && held(t, ts)) holdExpired++;
          const day = localDay(ts);
          if (day !== t.day) {
            if (!Number.isNaN(t.day)) emitDay(t, rec, (t.day + 1) * DAY - o.dayOffsetMs, out);
            t.day = day;
          }
          rec.processNext();
        }
      }
      for (const s of pending) out.tamper(s);
      pending.length = 0;
    },

    estimate(deviceId: string): NozzleEstimate | null {
      const route = routes.get(deviceId);
      const nz = route?.nozzle;
      const rec = route?.tank.rec;
      if (!nz || !rec || rec.equations === 0) return null;
      const mech = rec.dayMech[nz.j] as number;
      const ratio = mech > 0 ? (rec.dayInd[nz.j] as number) / mech : Number.isFinite(nz.lastE) ? (1 + nz.lastE) * rec.theta(nz.j) : 1;
      const theta = rec.theta(nz.j);
      return { error: ratio / theta - 1, sd: (ratio * Math.sqrt(rec.thetaVar(nz.j))) / (theta * theta) };
    },

    tank(gaugeId: string) {
      const rec = routes.get(gaugeId)?.tank.rec;
      if (!rec || routes.get(gaugeId)?.nozzle !== null) return null;
      return { lossLph: rec.lossLph, lossSdLph: rec.lossSdLph, gaugeError: rec.gaugeError, noiseL: rec.noiseL };
    },

    stats(): StationStats {
      const s: StationStats = { readings, ignored, equations: 0, cycles: 0, deliveries: 0, outliers: 0, lateRestarts: 0, lateClosed: 0, droppedGauges: 0, holdExpired, steps: 0 };
      for (const t of slots) {
        const rec = t.rec;
        if (!rec) continue;
        s.equations += rec.equations;
        s.cycles += rec.cycles;
        s.deliveries += rec.deliveries;
        s.outliers += rec.outliers;
        s.lateRestarts += rec.lateRestarts;
        s.lateClosed += rec.lateClosed;
        s.droppedGauges += rec.droppedGauges;
        s.steps += rec.steps;
      }
      return s;
    },
  };
}
