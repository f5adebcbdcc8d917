import type { Accepted, Kind } from '../ingest/readings.js';
import type { EstimatePoint as OutputPoint } from '../ingest/store/port.js';
import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { Db } from '../lib/sqlite.js';
import type { Device } from '../registry/registry.js';
import { createAreaEstimator } from './estimate/area.js';
import { createMarketEstimator } from './estimate/market.js';
import { createStationEstimator } from './estimate/station.js';
import type { ErrorSample, SiteEstimator, SiteEstimatorFactory, Nonconformity, SiteOutput, TamperSign } from './estimate/types.js';
import { AlertBook, type AlertType } from './state/alerts.js';
import { evaluate, meetsReplacement, mpeShare, trendIsReal, GRADE_POLICY, type Evaluation, type Grade, type GradePolicy, type SignEvidence } from './state/grade.js';
import { InstrumentMonitor, type Change } from './state/monitor.js';
import { OrderBook, type ReplacementOrder } from './state/orders.js';
import { recordVerification, type VerificationInput } from './state/verification.js';

const DAY = 86_400_000;

export interface AnalyticsOptions {
  db: Db;
  clock: Clock;
  /** the registry's view of a site's instruments */
  devicesOfSite(site: string): readonly Device[];
  logger?: Logger;
  policy?: Partial<GradePolicy>;
  /** estimator per site type; the transformer-area one is built in */
  estimators?: Partial<Record<'area' | 'station' | 'market', SiteEstimatorFactory>>;
  /** ms of event time without a reading, relative to its site, after which a device is silent */
  silentAfterMs?: number;
  /** ms: |device clock − receive time| beyond which the device's clock is flagged */
  clockSkewMs?: number;
  /** ms: the device clock is corrected for skews beyond this */
  clockCorrectMs?: number;
  /**
   * ms: a reading whose time is further behind its receipt than this is taken for one buffered
   * by the device (sent late after an outage, or delayed in delivery), which says nothing about
   * its clock. A clock lagging by more is told apart from late delivery by the test of
   * `maxClockLagMs` (see InstrumentState.lag).
   */
  backfillMs?: number;
  /**
   * ms: the largest clock lag inferred from readings beyond the backfill bound that arrive live
   * and agree (0: never; the accelerated demo, where delivery delays are multiplied by the speed-up
   * and look like lags, turns it off)
   */
  maxClockLagMs?: number;
  /** keep each instrument's estimate series and grade history in `db` (the platform does; evaluations need not) */
  history?: boolean;
  /**
   * The newest recorded verification of an instrument, asked once when the engine first meets it:
   * the state starts from it, so estimates replayed after a restart are fused with it as they
   * were live (state/verification.ts).
   */
  verificationOf?: (deviceId: string) => VerificationInput | undefined;
  /**
   * A quarantine burst: at least `count` quarantined messages of one device within `windowMs` of
   * receive time raise a data-quality alert; it clears after `quietMs` without any (defaults 5 in
   * an hour, a day's quiet)
   */
  quarantineBurst?: { count?: number; windowMs?: number; quietMs?: number };
}

const HISTORY_SCHEMA = `
CREATE TABLE IF NOT EXISTS estimates (
  device_id TEXT NOT NULL, ts INTEGER NOT NULL, ratio REAL NOT NULL, sd REAL NOT NULL, error REAL NOT NULL, p_out REAL NOT NULL,
  PRIMARY KEY (device_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS grade_history (
  device_id TEXT NOT NULL, at INTEGER NOT NULL, grade TEXT NOT NULL, reasons TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS grade_history_device ON grade_history(device_id, at);
`;

export interface EstimatePoint {
  /** ms */
  ts: number;
  /** error / MPE */
  ratio: number;
  sd: number;
  /** fraction */
  error: number;
  pOut: number;
}

/** Per-instrument state: fixed shape, one per device, kept in a Map. */
class InstrumentState {
  readonly device: Device;
  readonly monitor = new InstrumentMonitor();
  /** ms, newest event time seen (skew-corrected) */
  lastTs = -Infinity;
  /** ring of (ts − receivedAt) offsets, for the clock skew */
  readonly #offsets = new Float64Array(16).fill(-Infinity);
  #o = 0;
  /** ms, estimated device clock offset */
  skewMs = -Infinity;
  /** ms, a clock lag inferred while `skewMs` has nothing (see lag); null when none */
  lagMs: number | null = null;

  /** the clock offset in use: measured, else inferred, else none (−Infinity) */
  get clockMs(): number {
    return Number.isFinite(this.skewMs) ? this.skewMs : (this.lagMs ?? -Infinity);
  }
  readonly tamper: SignEvidence[] = [];
  /** requirements the data show failed (repeatability) */
  readonly failed: SignEvidence[] = [];
  grade: Grade = 'A';
  evaluation: Evaluation | null = null;
  /** consecutive samples below the clear threshold, for hysteresis */
  calm = 0;
  /** consecutive samples at or above the replacement probability */
  outRun = 0;
  silent = false;
  clockFlag = false;
  /** receive times of the device's newest quarantined messages, oldest first (at most 64) */
  readonly quarantinedAt: number[] = [];

  constructor(device: Device) {
    this.device = device;
  }

  /** Folds one receive offset in; returns the skew estimate: the largest recent offset, since transport delay only makes offsets smaller. */
  offset(o: number): number {
    const old = this.#offsets[this.#o] as number;
    this.#offsets[this.#o] = o;
    this.#o = (this.#o + 1) & 15;
    if (o >= this.skewMs) this.skewMs = o;
    else if (old === this.skewMs) {
      // the maximum left the window: rescan (rare: only when the oldest value was the largest)
      let m = -Infinity;
      for (const x of this.#offsets) if (x > m) m = x;
      this.skewMs = m;
    }
    return this.skewMs;
  }

  readonly #lagOffsets = new Float64Array(16);
  readonly #lagTimes = new Float64Array(16);
  #lagN = 0;

  /**
   * A clock lagging by more than the backfill bound leaves `offset` with no estimate (every offset
   * is set aside as a late reading). Such a device's readings still tell a lagging clock from a
   * burst of buffered ones: over its last sixteen, a lagging clock's readings are received as they
   * are produced (receipt advancing at least half as fast as their own times) and their offsets
   * agree; a burst is received all at once. Returns the lag then, else null. Used only while
   * `offset` has nothing, so a passing delivery backlog cannot override a measured clock; a
   * steady backlog of more than the backfill bound, every reading late alike for sixteen
   * readings, is indistinguishable from a lag by one device's data.
   */
  lag(o: number, ts: number, maxLagMs: number, infer: boolean): number | null {
    const i = this.#lagN & 15;
    this.#lagOffsets[i] = o;
    this.#lagTimes[i] = ts;
    this.#lagN++;
    // recorded always (the sixteen must be there when asked), scanned only when asked
    if (!infer || this.#lagN < 16 || !(o >= -maxLagMs)) return null;
    let max = -Infinity;
    let min = Infinity;
    let t0 = Infinity;
    let t1 = -Infinity;
    let r0 = Infinity;
    let r1 = -Infinity;
    for (let j = 0; j < 16; j++) {
      const x = this.#lagOffsets[j] as number;
      const t = this.#lagTimes[j] as number;
      if (x > max) max = x;
      if (x < min) min = x;
      if (t < t0) t0 = t;
      if (t > t1) t1 = t;
      if (t - x < r0) r0 = t - x;
      if (t - x > r1) r1 = t - x;
    }
    const live = r1 - r0 >= 0.5 * (t1 - t0);
    return live && max - min < 0.25 * (t1 - t0) && min >= -maxLagMs ? max : null;
  }
}

interface Site {
  name: string;
  estimator: SiteEstimator;
  members: Set<string>;
  /** ms, newest event time seen in the site */
  watermark: number;
  lastQualityDay: number;
  /** instruments that recently qualified for replacement on inaccuracy */
  qualifying: { id: string; at: number }[];
  /** ms: inaccuracy orders of this site are held until then */
  heldUntil: number;
}

export interface AnalyticsStats {
  sites: number;
  instruments: number;
  readings: number;
  samples: number;
  grades: Record<Grade, number>;
  openAlerts: number;
  orders: number;
  /** ms, platform time minus the oldest site watermark */
  lagMs: number;
}

export type OrderListener = (o: ReplacementOrder) => void;

/** One estimate as it leaves the analytics (for a TSDB's `analytics` measurement). */
export interface EstimateEvent extends OutputPoint {
  grade: Grade;
}
export type EstimateListener = (e: EstimateEvent) => void;

function siteType(devices: readonly Device[]): 'area' | 'station' | 'market' | null {
  if (devices.some((d) => d.kind === 'meter')) return 'area';
  if (devices.some((d) => d.kind === 'dispenser' || d.kind === 'tank')) return 'station';
  if (devices.some((d) => d.kind === 'scale')) return 'market';
  return null;
}

const CHANGE_ALERT: Record<Change['kind'], AlertType> = { jump: 'step', step: 'step', drift: 'drift' };

/**
 * The analytics stage. Readings arrive partitioned by site (the unit that must be analysed
 * together); each site's estimator turns them into per-instrument error samples and tamper
 * signs; each instrument's monitor turns samples into changes, trend and P(out of tolerance);
 * the grade, alerts and replacement orders follow. Everything runs in event time.
 */
export function createAnalytics(opts: AnalyticsOptions) {
  const log = opts.logger ?? silentLogger;
  const policy = { ...GRADE_POLICY, ...opts.policy };
  const alerts = new AlertBook({ db: opts.db });
  const orders = new OrderBook(opts.db);
  const sites = new Map<string, Site>();
  const instruments = new Map<string, InstrumentState>();
  const orderListeners = new Set<OrderListener>();
  const estimateListeners = new Set<EstimateListener>();
  const silentAfter = opts.silentAfterMs ?? 2 * DAY;
  const skewFlag = opts.clockSkewMs ?? 120_000;
  const skewCorrect = opts.clockCorrectMs ?? 60_000;
  const backfill = opts.backfillMs ?? 1_800_000;
  const maxLag = opts.maxClockLagMs ?? 6 * 3_600_000;
  const grades: Record<Grade, number> = { A: 0, B: 0, C: 0, D: 0 };
  let readings = 0;
  let samples = 0;
  /** replaying history after a restart: rebuild state, raise nothing already raised before */
  let muted = false;
  const history = opts.history === true;
  if (history) opts.db.exec(HISTORY_SCHEMA);
  const hst = history
    ? {
        estimate: opts.db.prepare(`INSERT OR REPLACE INTO estimates (device_id, ts, ratio, sd, error, p_out) VALUES (?, ?, ?, ?, ?, ?)`),
        grade: opts.db.prepare(`INSERT INTO grade_history (device_id, at, grade, reasons) VALUES (?, ?, ?, ?)`),
        estimates: opts.db.prepare(`SELECT ts, ratio, sd, error, p_out AS pOut FROM estimates WHERE device_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?`),
        grades: opts.db.prepare(`SELECT at, grade, reasons FROM grade_history WHERE device_id = ? ORDER BY at DESC LIMIT ?`),
      }
    : null;

  const factories: Record<'area' | 'station' | 'market', SiteEstimatorFactory | undefined> = {
    area: opts.estimators?.area ?? ((site, devices) => createAreaEstimator(site, devices)),
    station: opts.estimators?.station ?? ((site, devices) => createStationEstimator(site, devices)),
    market: opts.estimators?.market ?? ((site, devices) => createMarketEstimator(site, devices)),
  };

  function siteOf(name: string): Site | null {
    let s = sites.get(name);
    if (s) return s;
    const devices = opts.devicesOfSite(name);
    const type = siteType(devices);
    const factory = type ? factories[type] : undefined;
    const estimator: SiteEstimator = factory ? factory(name, devices) : { add() {}, flush() {} };
    s = { name, estimator, members: new Set(devices.map((d) => d.id)), watermark: -Infinity, lastQualityDay: -Infinity, qualifying: [], heldUntil: -Infinity };
    for (const d of devices) {
      if (!instruments.has(d.id)) {
        const st = new InstrumentState(d);
        const v = opts.verificationOf?.(d.id);
        if (v) recordVerification(st.monitor, v);
        instruments.set(d.id, st);
        grades.A++;
      }
    }
    sites.set(name, s);
    return s;
  }

  const burstCount = opts.quarantineBurst?.count ?? 5;
  /** instruments whose quarantine-burst alert is up, checked for quiet at each flush */
  const bursting = new Set<InstrumentState>();
  const burstWindow = opts.quarantineBurst?.windowMs ?? 3_600_000;
  const burstQuiet = opts.quarantineBurst?.quietMs ?? DAY;
  /** quarantined messages of the instrument received within `ms` before `now` */
  function quarantinedWithin(st: InstrumentState, ms: number, now: number): number {
    const q = st.quarantinedAt;
    let n = 0;
    for (let i = q.length - 1; i >= 0 && (q[i] as number) > now - ms; i--) n++;
    return n;
  }

  const subject = (st: InstrumentState) => ({ deviceId: st.device.id, region: st.device.region, kind: st.device.kind as Kind });

  /**
   * Area coherence: one estimator disturbed (several faults interacting, a head-meter problem)
   * makes several of its instruments look out of tolerance at once, while real failures are rare
   * and independent. When `policy.coherenceCount` instruments of one site qualify for replacement
   * on inaccuracy or a failed requirement (a market's vibration scatters every scale) within
   * `policy.coherenceWindowMs`, the site's such orders are held for the same window and an
   * on-site check is asked for instead; tamper orders are not held.
   */
  function siteHolds(site: Site, deviceId: string, at: number): boolean {
    if (at < site.heldUntil) return true;
    site.qualifying = site.qualifying.filter((q) => q.at > at - policy.coherenceWindowMs && q.id !== deviceId);
    site.qualifying.push({ id: deviceId, at });
    if (site.qualifying.length >= policy.coherenceCount) {
      site.heldUntil = at + policy.coherenceWindowMs;
      log.warn({ site: site.name, instruments: site.qualifying.map((q) => q.id) }, 'several instruments of one site look out of tolerance at once: orders held, site check needed');
      return true;
    }
    return false;
  }

  function regrade(st: InstrumentState, at: number): void {
    const ev = evaluate(st.monitor, { silent: st.silent, clockSkew: st.clockFlag, quarantined: quarantinedWithin(st, DAY, opts.clock.now()) }, st.tamper, policy, st.outRun, st.failed);
    st.evaluation = ev;
    const basis = st.tamper.length > 0 ? 'tamper' : st.failed.length > 0 ? 'nonconformity' : 'inaccuracy';
    const site = sites.get(st.device.site);
    if (ev.replace && basis !== 'tamper' && !orders.hasOpen(st.device.id) && site && siteHolds(site, st.device.id, at)) {
      ev.grade = 'C';
      ev.replace = false;
      ev.reasons.push({
        code: 'site_incoherent',
        zh: '同一台区/站点多台器具同时显示超差，可能是估计受扰动：暂缓更换，请现场核查',
        en: 'Several instruments of this site look out of tolerance at once, which points at a disturbed estimate: replacement held, check on site',
      });
    }
    if (ev.grade !== st.grade) {
      grades[st.grade]--;
      grades[ev.grade]++;
      st.grade = ev.grade;
      if (!muted) hst?.grade.run(st.device.id, at, ev.grade, JSON.stringify(ev.reasons));
    }
    if (ev.replace && !muted && !orders.hasOpen(st.device.id)) {
      const o = orders.issue({
        deviceId: st.device.id,
        region: st.device.region,
        kind: st.device.kind,
        site: st.device.site,
        issuedAt: at,
        basis,
        reasons: ev.reasons,
        evidence: { ratio: st.monitor.r, sd: st.monitor.sd, pOut: st.monitor.pOut, trend: st.monitor.trend, tamper: st.tamper.slice(0, 5), failed: st.failed.slice(0, 5) },
      });
      if (o) for (const l of orderListeners) l(o);
    }
  }

  const out: SiteOutput = {
    sample(s: ErrorSample): void {
      const st = instruments.get(s.deviceId);
      if (!st) return;
      samples++;
      const change = st.monitor.observe(s.ts, s.ratio, s.sd, s.ratePerDay !== undefined && s.rateSd !== undefined ? { perDay: s.ratePerDay, sd: s.rateSd } : undefined, s.innovationZ);
      hst?.estimate.run(s.deviceId, s.ts, s.ratio, s.sd, s.error, st.monitor.pOut);
      const p = st.monitor.pOut;
      st.outRun = p >= policy.replaceP && s.provisional !== true ? st.outRun + 1 : 0;
      if (muted) {
        regrade(st, s.ts);
        return;
      }
      if (change) {
        const dir = change.direction > 0 ? ['偏正', 'upward'] : ['偏负', 'downward'];
        alerts.raise(subject(st), CHANGE_ALERT[change.kind], s.ts,
          { zh: `误差出现${change.kind === 'drift' ? '漂移' : '阶跃'}（${dir[0]}），当前为${mpeShare(s.ratio, 'zh')}`, en: `Error ${change.kind === 'drift' ? 'drift' : 'step'} (${dir[1]}); now ${mpeShare(s.ratio, 'en')}` },
          { ratio: s.ratio, sd: s.sd, change });
      } else if (!st.monitor.change) {
        for (const t of ['step', 'drift'] as const) {
          if (t === 'drift' && st.monitor.driftContinues) continue;
          if (alerts.isActive(s.deviceId, t)) alerts.clear(s.deviceId, t, s.ts);
        }
      }
      if (meetsReplacement(st.monitor, st.outRun, policy)) {
        st.calm = 0;
        alerts.raise(subject(st), 'out_of_tolerance', s.ts,
          { zh: `超差概率 ${Math.round(p * 100)}%：误差 ${(s.error * 100).toFixed(2)}%，为${mpeShare(s.ratio, 'zh')}`, en: `Out of tolerance with probability ${Math.round(p * 100)}%: error ${(s.error * 100).toFixed(2)}%, ${mpeShare(s.ratio, 'en')}` },
          { ratio: s.ratio, sd: s.sd, pOut: p, error: s.error });
      } else if (p < 0.5 && st.failed.length === 0 && alerts.isActive(s.deviceId, 'out_of_tolerance') && ++st.calm >= 3) {
        alerts.clear(s.deviceId, 'out_of_tolerance', s.ts); // hysteresis: three calm periods in a row
      }
      regrade(st, s.ts);
      if (estimateListeners.size > 0) {
        const e: EstimateEvent = { deviceId: s.deviceId, region: st.device.region, site: st.device.site, ts: s.ts, ratio: s.ratio, sd: s.sd, error: s.error, pOut: p, grade: st.grade };
        for (const l of estimateListeners) l(e);
      }
    },
    tamper(t: TamperSign): void {
      const st = instruments.get(t.deviceId);
      if (st) keepSign(st, st.tamper, { code: t.code, zh: t.zh, en: t.en, at: t.ts }, false, 'tamper', { zh: `篡改迹象：${t.zh}`, en: `Tamper sign: ${t.en}` }, { code: t.code });
    },
    nonconforming(n: Nonconformity): void {
      const st = instruments.get(n.deviceId);
      // out of tolerance in the requirement's own terms: the alert a regulator follows, with the
      // figures; a requirement failed again replaces its earlier figures rather than adding a reason
      if (st) keepSign(st, st.failed, { code: n.code, zh: n.zh, en: n.en, at: n.ts }, true, 'out_of_tolerance', { zh: n.zh, en: n.en }, { code: n.code, ...n.evidence });
    },
  };

  /** Keeps a sign with the instrument (at most 20; with `latest`, one per code), raises its alert and regrades. */
  function keepSign(st: InstrumentState, list: SignEvidence[], e: SignEvidence, latest: boolean, type: AlertType, summary: { zh: string; en: string }, evidence: Record<string, unknown>): void {
    const i = latest ? list.findIndex((x) => x.code === e.code) : -1;
    if (i >= 0) list[i] = e;
    else if (list.length < 20) list.push(e);
    if (!muted) alerts.raise(subject(st), type, e.at, summary, evidence);
    regrade(st, e.at);
  }

  function quality(site: Site): void {
    const day = Math.floor(site.watermark / DAY);
    if (day <= site.lastQualityDay) return;
    site.lastQualityDay = day;
    for (const id of site.members) {
      const st = instruments.get(id);
      if (!st) continue;
      const silent = st.lastTs !== -Infinity ? site.watermark - st.lastTs > silentAfter : false;
      if (silent !== st.silent) {
        st.silent = silent;
        if (muted) {
          // state only while replaying
        } else if (silent) alerts.raise(subject(st), 'silent', site.watermark, { zh: '设备停止上报数据', en: 'The device has stopped reporting' }, { lastTs: st.lastTs });
        else alerts.clear(id, 'silent', site.watermark);
        regrade(st, site.watermark);
      }
    }
  }

  return {
    alerts,
    orders,
    /** Folds in a batch of new readings (deduplicated by ingest, in arrival order). */
    ingest(batch: readonly Accepted[]): void {
      for (const r of batch) {
        const site = siteOf(r.site);
        if (!site) continue;
        let st = instruments.get(r.deviceId);
        if (!st) {
          // a device registered after its site was first seen: rebuild the site with it
          sites.delete(r.site);
          const rebuilt = siteOf(r.site);
          st = instruments.get(r.deviceId);
          if (!rebuilt || !st) continue;
          log.info({ site: r.site, device: r.deviceId }, 'site membership changed; estimator rebuilt');
        }
        readings++;
        const o = r.ts - r.receivedAt;
        let skew = st.offset(o < -backfill ? -Infinity : o);
        if (maxLag > 0) {
          const lag = st.lag(o, r.ts, maxLag, skew === -Infinity);
          // the inferred lag lives beside the measured skew, so it follows a lag that changes and
          // gives way as soon as the clock is measured again
          if (skew !== -Infinity) st.lagMs = null;
          else if (lag !== null) st.lagMs = lag;
          skew = st.clockMs;
        }
        const skewed = Number.isFinite(skew) && Math.abs(skew) > skewCorrect;
        const ts = skewed ? r.ts - skew : r.ts;
        const flag = Number.isFinite(skew) && Math.abs(skew) > skewFlag;
        if (flag !== st.clockFlag) {
          st.clockFlag = flag;
          if (muted) {
            // state only while replaying
          } else if (flag) alerts.raise(subject(st), 'clock_skew', ts, { zh: `设备时钟偏差 ${Math.round(skew / 1000)} 秒`, en: `Device clock off by ${Math.round(skew / 1000)} s` }, { skewMs: skew });
          else alerts.clear(r.deviceId, 'clock_skew', ts);
        }
        if (ts > st.lastTs) st.lastTs = ts;
        const cur = sites.get(r.site) as Site;
        if (ts > cur.watermark) cur.watermark = ts;
        cur.estimator.add(skewed ? { ...r, ts } : r);
      }
    },
    /**
     * Messages ingest quarantined (stored already): a burst from one device raises a data-quality
     * alert (a firmware fault, a misconfigured gateway, a probe), and the count of the last day
     * enters its grade.
     */
    quarantined(rows: readonly { deviceId: string; site?: string | undefined; reason: string; receivedAt: number }[]): void {
      const touched = new Map<InstrumentState, number>();
      for (const r of rows) {
        let st = instruments.get(r.deviceId);
        if (!st && r.site !== undefined && siteOf(r.site)) st = instruments.get(r.deviceId);
        if (!st) continue;
        touched.set(st, r.receivedAt);
        const q = st.quarantinedAt;
        q.push(r.receivedAt);
        if (q.length > 64) q.shift();
        const n = quarantinedWithin(st, burstWindow, r.receivedAt);
        if (n >= burstCount && !bursting.has(st)) {
          bursting.add(st);
          alerts.raise(subject(st), 'quarantine_burst', r.receivedAt,
            { zh: `一小时内 ${n} 条报文被隔离（${r.reason}）`, en: `${n} messages quarantined within an hour (${r.reason})` },
            { count: n, reason: r.reason });
        }
      }
      // the day's count is part of the grade
      for (const [st, at] of touched) regrade(st, at);
    },
    /**
     * Restart safety: between begin and end, readings replayed from the store rebuild the
     * estimators and monitors without raising again what was raised before the restart
     * (alerts, orders and grade history are durable in `db`). Readings that arrive late later
     * are folded in by the estimators like any other.
     */
    beginReplay(): void {
      muted = true;
    },
    endReplay(): void {
      muted = false;
    },
    /** Processes what the sites have completed. */
    flush(): void {
      for (const s of sites.values()) {
        s.estimator.flush(out);
        quality(s);
      }
      const now = opts.clock.now();
      for (const st of bursting) {
        const last = st.quarantinedAt[st.quarantinedAt.length - 1] ?? -Infinity;
        if (now - last < burstQuiet) continue;
        bursting.delete(st);
        alerts.clear(st.device.id, 'quarantine_burst', now);
        regrade(st, now);
      }
    },
    /** Each new estimate (not those rebuilt by a replay), after its grade is known. */
    onEstimate(l: EstimateListener): () => void {
      estimateListeners.add(l);
      return () => estimateListeners.delete(l);
    },
    onOrder(l: OrderListener): () => void {
      orderListeners.add(l);
      return () => orderListeners.delete(l);
    },
    /** The current state of one instrument, for the API. */
    state(deviceId: string) {
      const st = instruments.get(deviceId);
      if (!st) return null;
      const m = st.monitor;
      return {
        grade: st.grade,
        reasons: st.evaluation?.reasons ?? [],
        ratio: m.r,
        sd: Number.isFinite(m.sd) ? m.sd : null,
        pOut: m.pOut,
        /** with `real`: whether it is more than noise (grade.ts trendIsReal), as the grade takes it */
        trend: m.trend ? { ...m.trend, real: trendIsReal(m) } : null,
        change: m.change,
        at: m.ts,
        skewMs: Number.isFinite(st.clockMs) ? st.clockMs : null,
        /** the verification carried in ratio and sd (MPE units), if any */
        verified: m.verified ? { at: m.verified.at, ratio: m.verified.r, sd: m.verified.sd } : null,
        silent: st.silent,
        tamper: st.tamper,
        failed: st.failed,
      };
    },
    /**
     * A verification result recorded by an inspector: a measured error that becomes part of the
     * instrument's state (state/verification.ts: fused with the telemetry and carried forward) and
     * its grade.
     */
    recordVerification(deviceId: string, v: VerificationInput) {
      const st = instruments.get(deviceId);
      if (!st) return null; // no telemetry seen yet: nothing to recalibrate, the record stands on its own
      const r = recordVerification(st.monitor, v);
      // the state changes now, at the instrument's own event time, not on the (earlier) test date
      regrade(st, st.monitor.ts);
      return r;
    },
    /** The instrument's estimate series (history must be on). */
    estimates(deviceId: string, from: number, to: number, limit = 2000): EstimatePoint[] {
      return hst ? (hst.estimates.all(deviceId, from, to, limit) as EstimatePoint[]) : [];
    },
    /** Grade changes, newest first, with their reasons (history must be on). */
    gradeHistory(deviceId: string, limit = 100): { at: number; grade: Grade; reasons: Evaluation['reasons'] }[] {
      if (!hst) return [];
      return (hst.grades.all(deviceId, limit) as { at: number; grade: Grade; reasons: string }[]).map((r) => ({ ...r, reasons: JSON.parse(r.reasons) as Evaluation['reasons'] }));
    },
    grade(deviceId: string): Grade | null {
      return instruments.get(deviceId)?.grade ?? null;
    },
    stats(): AnalyticsStats {
      let oldest = Infinity;
      for (const s of sites.values()) if (s.watermark > -Infinity) oldest = Math.min(oldest, s.watermark);
      return {
        sites: sites.size,
        instruments: instruments.size,
        readings,
        samples,
        grades: { ...grades },
        openAlerts: alerts.activeCount(),
        orders: orders.count(),
        lagMs: Number.isFinite(oldest) ? Math.max(0, opts.clock.now() - oldest) : 0,
      };
    },
    async close(): Promise<void> {},
  };
}
export type Analytics = ReturnType<typeof createAnalytics>;
