import type { Accepted } from '../../ingest/readings.js';
import type { Device } from '../../registry/registry.js';
import { Check, CHECK_OK, CHECK_OUTLIER, CHECK_STUCK, ZeroSeries, fitDay, median, scaleRatioMpe, scaleReferenceLoadKg, type DayFit } from './market-day.js';
import chisquareQuantile from '@stdlib/stats-base-dists-chisquare-quantile';
import type { SiteEstimator, SiteOutput } from './types.js';

/**
 * Trade scales of one market (DOMAIN.md §3, §6). Each scale is graded from its check-weight
 * tests: error = indication − reference − zero offset, fitted per local day as a proportional
 * error and expressed as a ratio to the in-service MPE at the scale's reference load (see
 * scaleReferenceLoadKg). The zero offset comes out first because a real scale's indication of a
 * load carries whatever zero it shows unloaded (the zero-setting device can remove it; the span
 * cannot be reset by the stallholder), and the scale reports that no-load indication hourly and
 * with every check.
 *
 * Order: readings are held per scale until the scale's own newest event time is `graceMs`
 * past them, then processed in event-time order; a day is closed `graceMs` after its end. So
 * any arrival order within `graceMs` per scale, and any backfill after an outage, gives the
 * same output. Peers (the market's other scales on the same day) are compared once every scale
 * has closed the day, or `peerWaitMs` after the day's end; a scale closing later (backfill) is
 * compared with the peers that were there.
 */
export interface MarketOptions {
  /** ms, offset of the market's calendar day from UTC: UTC+8, China Standard Time */
  utcOffsetMs: number;
  /** ms, how long past a reading's event time the estimator waits for that scale's older readings */
  graceMs: number;
  /** ms after a day's end when peers are compared even if a scale has not closed that day */
  peerWaitMs: number;
  /** ms, half-width of the window of zero readings averaged into a check's zero offset */
  zeroWindowMs: number;
  /** e², prior variance of one check's error (indication and zero quantisation plus noise) */
  priorVarE2: number;
  /** degrees of freedom the prior variance counts for */
  priorDof: number;
  /** e², floor of a check's variance: quantisation e²/12 of the indication and of the zero (OIML R 76-1, 3.1) */
  floorVarE2: number;
  /** per day, forgetting factor of the pooled check variance (≈ 1/(1−f) days of memory) */
  varForget: number;
  /** per check, forgetting factor of the running baseline a jump is measured against */
  baseForget: number;
  /** fraction: smallest change of relative error treated as a jump */
  jumpRel: number;
  /** standard deviations of one check a jump must also exceed */
  jumpSigma: number;
  /** standard deviations off the day's median slope beyond which a check is left out of the day's fit */
  rejectK: number;
  /** ms before the last normal check and after the first abnormal one searched for parameter/mode events */
  eventBeforeMs: number;
  eventAfterMs: number;
  /** degrees: tilt beyond which checks measure the installation, not the instrument (OIML R 76-1, 3.9.1.1) */
  tiltLimitDeg: number;
  /** e: a day's median no-load indication at or above this is a zero-offset sign */
  zeroOffsetE: number;
  /** peers needed (besides the scale itself) for a peer comparison */
  minPeers: number;
  /** kg: load the ratio is expressed at; default the scale's reference load */
  refLoadKg?: number;
  /**
   * Repeatability (OIML R 76-1, 3.6.1): the results of several weighings of one load may differ
   * by no more than the MPE at that load. Read statistically: three weighings' range stays
   * within the MPE 19 times in 20, i.e. the random error's sd is at most MPE / repeatRange (3.31
   * is the 95 % point of the range of three normal values, in sd). The sd is read from the
   * successive differences of the scale's no-load indications (which a slow zero drift barely
   * moves; a difference far beyond the day's others, a re-zeroing or a pre-tare, is left out),
   * quantisation (e²/12) removed, pooled over days with forgetting repeatForget; a scale is
   * non-conforming once the lower repeatConfidence bound of that sd exceeds the limit at its
   * reference load.
   */
  repeatRange: number;
  repeatConfidence: number;
  /** per day, forgetting factor of the repeatability pool */
  repeatForget: number;
}

export const MARKET_DEFAULTS: MarketOptions = {
  utcOffsetMs: 8 * 3_600_000,
  graceMs: 3 * 3_600_000,
  peerWaitMs: 24 * 3_600_000,
  zeroWindowMs: 1.5 * 3_600_000,
  priorVarE2: 0.25,
  priorDof: 8,
  floorVarE2: 1 / 6,
  varForget: 0.9,
  baseForget: 0.8,
  // Cheat chips add 10–30 % (DOMAIN.md §6); wear and steps move a class III span by well under
  // 1 %/day, and the scale's in-service MPE is 0.1–0.5 % (OIML R 76-1, Table 6, doubled): 3 %
  // separates the two by an order of magnitude each way.
  jumpRel: 0.03,
  jumpSigma: 6,
  rejectK: 5,
  eventBeforeMs: 3_600_000,
  eventAfterMs: 2 * 3_600_000,
  // no level indicator on the simulated counter scales; 2° is the configured default (UNCONFIRMED against R 76-1, 3.9.1.1)
  tiltLimitDeg: 2,
  // 2 e is the in-service MPE from 500 e up (OIML R 76-1, Table 6): a zero left there alone
  // takes mid-range weighings to their limit, eight times the ±0.25 e zero-setting accuracy (R 76-1, 4.5.2)
  zeroOffsetE: 2,
  minPeers: 3,
  repeatRange: 3.31,
  repeatConfidence: 0.95,
  repeatForget: 0.9,
};

/** What the estimator knows about one scale, for the dashboard and for tests. */
export interface ScaleDiagnostics {
  deviceId: string;
  /** kg, load the ratio refers to */
  refLoadKg: number;
  /** fraction, in-service relative MPE at that load */
  ratioMpe: number;
  /** days closed */
  days: number;
  /** days that gave a sample */
  sampledDays: number;
  /** days whose tilt exceeded the limit: data quality, no sample */
  tiltedDays: number;
  /** checks: used in a fit, left out as outliers, frozen indication */
  checks: number;
  outliers: number;
  stuck: number;
  /** e, standard deviation of one check's error as currently pooled */
  checkSdE: number;
  /** the latest day sample: fraction, ratio, sd of ratio (NaN before one) */
  lastError: number;
  lastRatio: number;
  lastSd: number;
  /** (error − peers' median) / its sd on the latest sampled day; NaN without enough peers */
  peerZ: number;
  /** fraction: common shift of the agreeing peers taken as uncertainty on the latest day, 0 if none */
  commonMode: number;
  /** the latest closed day's zero: median (e), share of readings beyond ±0.25 e, slope (e per hour) */
  zeroMedianE: number;
  zeroBeyondShare: number;
  zeroSlopeEPerH: number;
  /** e: the random error's sd read from the no-load indications (quantisation removed), and the most repeatability allows at the reference load */
  noiseSdE: number;
  repeatLimitE: number;
  /** sudden jumps confirmed */
  jumps: number;
  /** counts of reported events */
  events: Record<string, number>;
  /** readings that came after their day was closed */
  late: number;
}

export interface MarketEstimator extends SiteEstimator {
  inspect(deviceId: string): ScaleDiagnostics | null;
  stats(): { scales: number; readings: number; ignored: number; late: number };
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const JUMP_EVENTS = new Set(['param_change', 'mode_change']);

class DayBucket {
  readonly checks: Check[] = [];
  /** ms: checks before a jump confirmed within the day do not describe the scale after it */
  cutoff = -Infinity;
  /** degrees */
  maxTilt = 0;
}

interface DayResult {
  fit: DayFit | null;
  /** fraction², variance of fit.error */
  varE: number;
  tilted: boolean;
}

class Board {
  readonly results: (DayResult | undefined)[];
  done = 0;
  emitted = false;
  constructor(n: number) {
    this.results = new Array<DayResult | undefined>(n).fill(undefined);
  }
}

interface Jump {
  /** ms, first abnormal check */
  onset: number;
  /** ms, last normal check before it */
  lastNormal: number;
  /** fraction, change of relative error */
  size: number;
}

class ScaleTrack {
  readonly index: number;
  readonly id: string;
  readonly eKg: number;
  readonly refLoadKg: number;
  readonly ratioMpe: number;
  /** ms, newest event time seen */
  wm = -Infinity;
  firstDay = Infinity;
  lastFinal = -Infinity;
  /** unsettled checks, sorted by ts */
  readonly pending: Check[] = [];
  readonly days = new Map<number, DayBucket>();
  readonly zeros = new ZeroSeries();
  readonly evTs: number[] = [];
  readonly evCode: string[] = [];
  varSum: number;
  varDof: number;
  readonly varFloor: number;
  baseNum = 0;
  baseDen = 0;
  baseN = 0;
  suspects: Check[] = [];
  lastNormalTs = -Infinity;
  lastCheck: Check | null = null;
  jump: Jump | null = null;
  zeroEpisode = false;
  /**
   * The repeatability pool, each day's terms weighted by repeatForget^age: kg², half the sum of
   * squared successive no-load differences; the number of differences behind it, and the same
   * with squared weights (for the pool's effective degrees of freedom)
   */
  zeroSum = 0;
  zeroN = 0;
  zeroN2 = 0;
  repeatFailed = false;
  readonly diag: ScaleDiagnostics;

  constructor(index: number, id: string, eKg: number, refLoadKg: number, ratioMpe: number, o: MarketOptions) {
    this.index = index;
    this.id = id;
    this.eKg = eKg;
    this.refLoadKg = refLoadKg;
    this.ratioMpe = ratioMpe;
    this.varSum = o.priorVarE2 * eKg * eKg * o.priorDof;
    this.varDof = o.priorDof;
    this.varFloor = o.floorVarE2 * eKg * eKg;
    this.diag = {
      deviceId: id,
      refLoadKg,
      ratioMpe,
      days: 0,
      sampledDays: 0,
      tiltedDays: 0,
      checks: 0,
      outliers: 0,
      stuck: 0,
      checkSdE: 0,
      lastError: Number.NaN,
      lastRatio: Number.NaN,
      lastSd: Number.NaN,
      peerZ: Number.NaN,
      commonMode: 0,
      zeroMedianE: Number.NaN,
      zeroBeyondShare: Number.NaN,
      zeroSlopeEPerH: Number.NaN,
      noiseSdE: Number.NaN,
      repeatLimitE: (ratioMpe * refLoadKg) / o.repeatRange / eKg,
      jumps: 0,
      events: {},
      late: 0,
    };
    this.diag.checkSdE = Math.sqrt(this.varKg2()) / eKg;
  }

  /** kg², pooled variance of one check's error */
  varKg2(): number {
    return Math.max(this.varFloor, this.varSum / this.varDof);
  }

  bucket(day: number): DayBucket {
    let b = this.days.get(day);
    if (!b) this.days.set(day, (b = new DayBucket()));
    return b;
  }

  addEvent(ts: number, code: string): void {
    let i = this.evTs.length;
    while (i > 0 && (this.evTs[i - 1] as number) > ts) i--;
    this.evTs.splice(i, 0, ts);
    this.evCode.splice(i, 0, code);
    this.diag.events[code] = (this.diag.events[code] ?? 0) + 1;
  }

  hasJumpEvent(from: number, to: number): boolean {
    for (let i = 0; i < this.evTs.length; i++) {
      const t = this.evTs[i] as number;
      if (t >= from && t <= to && JUMP_EVENTS.has(this.evCode[i] as string)) return true;
    }
    return false;
  }

  addBase(c: Check, forget: number): void {
    this.baseNum = forget * this.baseNum + c.dKg * c.refKg;
    this.baseDen = forget * this.baseDen + c.refKg * c.refKg;
    this.baseN++;
  }
}

/** checks of a running baseline before jumps are looked for */
const MIN_BASE = 3;

/**
 * Builds the estimator for one market. Devices that are not scales, or lack the parameters the
 * MPE table needs (eKg, maxKg, a class the table knows), are ignored and counted in stats().
 */
export function createMarketEstimator(site: string, devices: readonly Device[], opts: Partial<MarketOptions> = {}): MarketEstimator {
  const o: MarketOptions = { ...MARKET_DEFAULTS, ...opts };
  const tracks: ScaleTrack[] = [];
  const byId = new Map<string, ScaleTrack>();
  for (const d of devices) {
    if (d.kind !== 'scale' || d.site !== site) continue;
    const eKg = d.params['eKg'];
    const refLoad = o.refLoadKg ?? scaleReferenceLoadKg(d);
    const mpe = refLoad === null ? null : scaleRatioMpe(d, refLoad);
    if (!eKg || refLoad === null || mpe === null) continue;
    const t = new ScaleTrack(tracks.length, d.id, eKg, refLoad, mpe, o);
    tracks.push(t);
    byId.set(d.id, t);
  }
  const boards = new Map<number, Board>();
  let readings = 0;
  let ignored = 0;
  let late = 0;

  const dayOf = (ts: number): number => Math.floor((ts + o.utcOffsetMs) / DAY);
  const dayStart = (day: number): number => day * DAY - o.utcOffsetMs;

  function add(r: Accepted): void {
    const t = byId.get(r.deviceId);
    if (!t) {
      ignored++;
      return;
    }
    readings++;
    const day = dayOf(r.ts);
    if (day <= t.lastFinal) {
      // its day is closed and sampled; reopening it would emit a second sample for the same period
      late++;
      t.diag.late++;
      return;
    }
    if (r.ts > t.wm) t.wm = r.ts;
    if (day < t.firstDay) t.firstDay = day;
    const f = r.fields;
    const zero = f['zeroKg'];
    if (zero !== undefined && Number.isFinite(zero)) t.zeros.add(r.ts, zero);
    const tilt = f['tiltDeg'];
    if (tilt !== undefined && Math.abs(tilt) > 0) {
      const b = t.bucket(day);
      if (Math.abs(tilt) > b.maxTilt) b.maxTilt = Math.abs(tilt);
    }
    for (const e of r.events) t.addEvent(r.ts, e);
    const ref = f['checkRefKg'];
    const ind = f['checkIndicatedKg'];
    if (ref !== undefined && ind !== undefined && ref > 0 && Number.isFinite(ind)) {
      const c = new Check(r.ts, ref, ind, zero ?? Number.NaN);
      const p = t.pending;
      let i = p.length;
      while (i > 0 && (p[i - 1] as Check).ts > c.ts) i--;
      p.splice(i, 0, c);
    }
  }

  /** Processes a scale's settled checks in event-time order: zero correction, stuck guard, jump detector. */
  function settle(t: ScaleTrack, out: SiteOutput): void {
    const settledTo = t.wm - o.graceMs;
    const p = t.pending;
    let k = 0;
    while (k < p.length && (p[k] as Check).ts <= settledTo) {
      const c = p[k] as Check;
      k++;
      let z = t.zeros.around(c.ts, o.zeroWindowMs);
      if (Number.isNaN(z)) z = Number.isFinite(c.zeroKg) ? c.zeroKg : 0;
      c.dKg = c.indicatedKg - c.refKg - z;
      t.bucket(dayOf(c.ts)).checks.push(c);
      const last = t.lastCheck;
      if (last && c.indicatedKg === last.indicatedKg && c.refKg !== last.refKg) {
        c.flag = CHECK_STUCK;
        t.diag.stuck++;
        continue;
      }
      t.lastCheck = c;
      step(t, c, out);
    }
    if (k > 0) p.splice(0, k);
    const j = t.jump;
    if (j && settledTo >= j.onset + o.eventAfterMs) {
      t.jump = null;
      const from = Number.isFinite(j.lastNormal) ? j.lastNormal - o.eventBeforeMs : j.onset - DAY;
      const events = t.hasJumpEvent(from, j.onset + o.eventAfterMs);
      const pct = (j.size * 100).toFixed(1);
      if (events && j.size > 0) {
        out.tamper({
          deviceId: t.id,
          ts: j.onset,
          code: 'cheat_chip',
          zh: `示值按比例突增 ${pct}%，突变前后有参数/模式变更：疑似作弊芯片`,
          en: `Indication jumped by +${pct} % in proportion to the load, with a parameter/mode change around the onset: suspected cheat chip`,
        });
      } else {
        out.tamper({
          deviceId: t.id,
          ts: j.onset,
          code: 'error_jump',
          zh: `示值误差按比例突变 ${pct}%${events ? '' : '，无参数变更记录'}`,
          en: `Sudden proportional error change of ${pct} %${events ? '' : ' without a logged parameter change'}`,
        });
      }
    }
  }

  /** The jump detector: one settled check against the running baseline. */
  function step(t: ScaleTrack, c: Check, out: SiteOutput): void {
    if (t.baseN < MIN_BASE) {
      t.addBase(c, o.baseForget);
      t.lastNormalTs = c.ts;
      return;
    }
    const sd = Math.sqrt(t.varKg2());
    const b = t.baseNum / t.baseDen;
    const dev = c.rel - b;
    if (Math.abs(dev) <= Math.max(o.jumpRel, (o.jumpSigma * sd) / c.refKg)) {
      // the suspects were single bad checks, not a jump
      for (const s of t.suspects) s.flag = CHECK_OUTLIER;
      t.suspects = [];
      t.addBase(c, o.baseForget);
      t.lastNormalTs = c.ts;
      return;
    }
    const prev = t.suspects[t.suspects.length - 1];
    if (!prev || !agree(prev, c, b, sd)) {
      for (const s of t.suspects) s.flag = CHECK_OUTLIER;
      t.suspects = [c];
      c.flag = CHECK_OUTLIER;
      return;
    }
    // two consecutive checks agree on the same proportional shift: a jump, from the first of them
    t.suspects.push(c);
    const first = t.suspects[0] as Check;
    let num = 0;
    let den = 0;
    for (const s of t.suspects) {
      s.flag = CHECK_OK;
      num += s.dKg * s.refKg;
      den += s.refKg * s.refKg;
    }
    const after = num / den;
    t.jump = { onset: first.ts, lastNormal: t.lastNormalTs, size: after - b };
    // a day already closed left its suspect checks out; only an open day needs the cutoff
    if (dayOf(first.ts) > t.lastFinal) t.bucket(dayOf(first.ts)).cutoff = first.ts;
    t.baseNum = num;
    t.baseDen = den;
    t.baseN = MIN_BASE;
    t.suspects = [];
    t.lastNormalTs = c.ts;
    t.diag.jumps++;
    // the evidence jumped: a sample at once, not at the day's end (types.ts)
    const sdE = Math.sqrt(t.varKg2() / den);
    out.sample({ deviceId: t.id, ts: c.ts, ratio: after / t.ratioMpe, sd: sdE / t.ratioMpe, error: after });
  }

  /** same direction, and the same relative error within a quarter of the shift or 4 sd: proportional, not an absolute offset */
  function agree(a: Check, c: Check, base: number, sdKg: number): boolean {
    const da = a.rel - base;
    const dc = c.rel - base;
    if (Math.sign(da) !== Math.sign(dc)) return false;
    const tol = Math.max(0.25 * Math.min(Math.abs(da), Math.abs(dc)), 4 * Math.hypot(sdKg / a.refKg, sdKg / c.refKg));
    return Math.abs(a.rel - c.rel) <= tol;
  }

  function closeDays(t: ScaleTrack, out: SiteOutput): void {
    if (t.firstDay === Infinity) return;
    let d = t.lastFinal === -Infinity ? t.firstDay : t.lastFinal + 1;
    while (dayStart(d + 1) + o.graceMs <= t.wm) {
      const result = closeDay(t, d, out);
      t.lastFinal = d;
      t.days.delete(d);
      post(d, t.index, result, out);
      d++;
    }
    if (t.lastFinal !== -Infinity) {
      const keepFrom = dayStart(t.lastFinal + 1);
      t.zeros.prune(keepFrom - o.zeroWindowMs);
      let n = 0;
      while (n < t.evTs.length && (t.evTs[n] as number) < keepFrom - 7 * DAY) n++;
      if (n > 0) {
        t.evTs.splice(0, n);
        t.evCode.splice(0, n);
      }
    }
  }

  function closeDay(t: ScaleTrack, d: number, out: SiteOutput): DayResult {
    const b = t.days.get(d);
    const fit = b ? fitDay(b.checks, b.cutoff, Math.sqrt(t.varKg2()), o.rejectK) : null;
    const diag = t.diag;
    diag.days++;
    if (b) for (const c of b.checks) if (c.flag === CHECK_OUTLIER) diag.outliers++;
    if (fit) {
      t.varSum = o.varForget * t.varSum + fit.rss;
      t.varDof = o.varForget * t.varDof + (fit.n - 1);
      diag.checks += fit.n;
    }
    diag.checkSdE = Math.sqrt(t.varKg2()) / t.eKg;
    const tilted = b !== undefined && b.maxTilt > o.tiltLimitDeg;
    if (tilted) diag.tiltedDays++;
    zeroDay(t, d, out);
    return { fit, varE: fit ? t.varKg2() / fit.sumL2 : Number.NaN, tilted };
  }

  /**
   * The day's no-load indications: diagnostics for the grade (median, share beyond the ±0.25 e
   * zero-setting accuracy of OIML R 76-1, 4.5.2, warm-up slope) and a sign when the scale stands
   * at a positive zero all day — weight shown with nothing on the pan, charged to every customer.
   */
  function zeroDay(t: ScaleTrack, d: number, out: SiteOutput): void {
    const { ts, kg } = t.zeros.between(dayStart(d), dayStart(d + 1));
    const diag = t.diag;
    if (kg.length === 0) return;
    const e = t.eKg;
    const med = median(kg);
    let beyond = 0;
    let mt = 0;
    let mz = 0;
    for (let i = 0; i < kg.length; i++) {
      if (Math.abs(kg[i] as number) > 0.25 * e) beyond++;
      mt += ts[i] as number;
      mz += kg[i] as number;
    }
    mt /= kg.length;
    mz /= kg.length;
    let sxy = 0;
    let sxx = 0;
    for (let i = 0; i < kg.length; i++) {
      const x = ((ts[i] as number) - mt) / HOUR;
      sxy += x * ((kg[i] as number) - mz);
      sxx += x * x;
    }
    diag.zeroMedianE = med / e;
    diag.zeroBeyondShare = beyond / kg.length;
    diag.zeroSlopeEPerH = sxx > 0 ? sxy / sxx / e : 0;
    // readings are multiples of e: compare in units of e with a rounding margin
    const medE = med / e;
    if (kg.length >= 3 && medE >= o.zeroOffsetE - 1e-6 && !t.zeroEpisode) {
      t.zeroEpisode = true;
      const n = medE.toFixed(0);
      let first = 0;
      while (first < kg.length - 1 && (kg[first] as number) / e < o.zeroOffsetE - 1e-6) first++;
      out.tamper({
        deviceId: t.id,
        ts: ts[first] as number,
        code: 'zero_offset',
        zh: `空秤示值当日中位数为 +${n}e，远超置零准确度 ±0.25e：疑似预置皮重或零点作弊`,
        en: `No-load indication stays at +${n} e (the day's median), far beyond the ±0.25 e zero-setting accuracy: suspected pre-tare or zero manipulation`,
      });
    } else if (medE < o.zeroOffsetE / 2) {
      // hysteresis: one sign per episode, re-armed once the zero is back under half the limit
      t.zeroEpisode = false;
    }
    // after the zero-offset sign: a scale both tampered with and scattering is ordered for the tamper
    repeatability(t, kg, ts, out);
  }

  /** One day's no-load indications into the repeatability pool (MarketOptions.repeatRange), and the sign when it is failed. */
  function repeatability(t: ScaleTrack, kg: readonly number[], ts: readonly number[], out: SiteOutput): void {
    if (kg.length < 3) return;
    const e = t.eKg;
    const diffs: number[] = [];
    for (let i = 1; i < kg.length; i++) diffs.push((kg[i] as number) - (kg[i - 1] as number));
    // a step of the zero (a re-zeroing, a pre-tare) is one difference far beyond the others: beyond
    // five robust sd of the day's differences, and beyond 3 e, which a sound scale's rounding never makes
    const cut = Math.max(5 * 1.4826 * median(diffs.map(Math.abs)), 3 * e);
    let ss = 0;
    let k = 0;
    for (const d of diffs) {
      if (Math.abs(d) > cut) continue;
      ss += d * d;
      k++;
    }
    if (k < 2) return;
    // E[d²] = 2σ² for independent readings of sd σ; successive differences share readings, so
    // half their sum of squares has the variance of a χ² with 2k/3 degrees of freedom scaled to
    // mean kσ² (von Neumann). Pooled with forgetting, Satterthwaite's effective degrees of freedom
    // are (2/3)·(Σw·k)² / Σw²·k.
    const f = o.repeatForget;
    t.zeroSum = f * t.zeroSum + ss / 2;
    t.zeroN = f * t.zeroN + k;
    t.zeroN2 = f * f * t.zeroN2 + k;
    const dof = ((2 / 3) * t.zeroN * t.zeroN) / t.zeroN2;
    const quant = (e * e) / 12;
    const diag = t.diag;
    const variance = t.zeroSum / t.zeroN;
    diag.noiseSdE = Math.sqrt(Math.max(0, variance - quant)) / e;
    const limitE = diag.repeatLimitE;
    // variance·dof / σ² ~ χ²(dof): σ² ≥ variance·dof / χ²(confidence; dof) with that confidence
    const lowerE = Math.sqrt(Math.max(0, (variance * dof) / chisquareQuantile(o.repeatConfidence, dof) - quant)) / e;
    if (!t.repeatFailed && lowerE > limitE) {
      t.repeatFailed = true;
      const sd = diag.noiseSdE.toFixed(2);
      const lim = limitE.toFixed(2);
      out.nonconforming({
        deviceId: t.id,
        ts: ts[ts.length - 1] as number,
        code: 'repeatability',
        zh: `重复性不合格：示值随机误差标准差约 ${sd}e，超过参考载荷下最大允许误差所容许的 ${lim}e（OIML R 76-1 3.6.1）`,
        en: `Fails repeatability: the indication's random error has an sd of about ${sd} e, beyond the ${lim} e the MPE at the reference load allows (OIML R 76-1, 3.6.1)`,
        evidence: { noiseSdE: diag.noiseSdE, lowerSdE: lowerE, limitE, dof },
      });
    } else if (t.repeatFailed && diag.noiseSdE < limitE) {
      t.repeatFailed = false; // re-armed once the scatter is back within the limit (a repaired scale)
    }
  }

  function post(d: number, k: number, result: DayResult, out: SiteOutput): void {
    let b = boards.get(d);
    if (!b) boards.set(d, (b = new Board(tracks.length)));
    b.results[k] = result;
    b.done++;
    if (b.emitted) emit(b, k, out);
  }

  /** One scale's day sample, with its peers' evidence. */
  function emit(b: Board, k: number, out: SiteOutput): void {
    const r = b.results[k];
    const t = tracks[k] as ScaleTrack;
    if (!r || !r.fit || r.tilted) return;
    const errs: number[] = [];
    const vars: number[] = [];
    b.results.forEach((p, i) => {
      if (i !== k && p && p.fit && !p.tilted) {
        errs.push(p.fit.error);
        vars.push(p.varE);
      }
    });
    let common2 = 0;
    let peerZ = Number.NaN;
    if (errs.length >= o.minPeers) {
      const m = median(errs);
      const spread = 1.4826 * median(errs.map((x) => Math.abs(x - m)));
      const typical = Math.sqrt(median(vars));
      // standard error of a median: √(π/2) × that of a mean
      const seM = (1.2533 * Math.max(spread, typical)) / Math.sqrt(errs.length);
      // Peers that agree on a shift away from zero (their median significant, their spread smaller
      // than the shift) point at something they share (the market's check weights, the site)
      // rather than at each scale: that shift is uncertainty of every scale's absolute error. A scale off from agreeing peers keeps its
      // small sd and its large peerZ — the more credible evidence.
      if (Math.abs(m) > 3 * seM && spread < Math.abs(m)) common2 = m * m;
      peerZ = (r.fit.error - m) / Math.sqrt(r.varE + seM * seM);
    }
    const sd = Math.sqrt(r.varE + common2) / t.ratioMpe;
    const ratio = r.fit.error / t.ratioMpe;
    out.sample({ deviceId: t.id, ts: r.fit.ts, ratio, sd, error: r.fit.error });
    const diag = t.diag;
    diag.sampledDays++;
    diag.lastError = r.fit.error;
    diag.lastRatio = ratio;
    diag.lastSd = sd;
    diag.peerZ = peerZ;
    diag.commonMode = Math.sqrt(common2);
  }

  function flush(out: SiteOutput): void {
    let lead = -Infinity;
    for (const t of tracks) {
      settle(t, out);
      closeDays(t, out);
      if (t.wm > lead) lead = t.wm;
    }
    const days = [...boards.keys()].sort((a, b) => a - b);
    for (const d of days) {
      const b = boards.get(d) as Board;
      if (!b.emitted && (b.done === tracks.length || lead >= dayStart(d + 1) + o.peerWaitMs)) {
        b.emitted = true;
        for (let k = 0; k < tracks.length; k++) emit(b, k, out);
      }
      // a scale silent for longer than this has its backfilled days compared with no peers
      if (b.emitted && dayStart(d + 1) + 60 * DAY < lead) boards.delete(d);
    }
  }

  return {
    add,
    flush,
    inspect(deviceId) {
      const t = byId.get(deviceId);
      return t ? { ...t.diag, events: { ...t.diag.events } } : null;
    },
    stats: () => ({ scales: tracks.length, readings, ignored, late }),
  };
}
