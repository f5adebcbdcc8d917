import { createAnalytics } from '../analytics/engine.js';
import { relativeMpe } from '../analytics/mpe/mpe.js';
import { createAreaEstimator } from '../analytics/estimate/area.js';
import type { AreaBalanceOptions } from '../analytics/estimate/area-balance.js';
import { scaleRatioMpe, scaleReferenceLoadKg } from '../analytics/estimate/market-day.js';
import type { Accepted, AnyReading } from '../ingest/readings.js';
import { ManualClock } from '../lib/clock.js';
import { openDb } from '../lib/sqlite.js';
import type { Device } from '../registry/registry.js';
import { buildFleet, type Fleet, type SimDevice } from './fleet.js';
import { createFleetState, simulate } from './generator.js';
import type { ScenarioInput } from './scenario.js';
import { createTruth, type RepeatSdOf } from './truth.js';
import { toAccepted } from './accepted.js';
import { createMeterBound, SCORE_STEP_MS, type BoundRow } from './bound.js';

const DAY = 86_400_000;

/**
 * `driftwatch eval`: a scenario through the simulator and the analytics in one process, in
 * accelerated event time, scored against the simulator's ground truth.
 */
export interface EvalResult {
  devices: number;
  /** instruments the analytics grades against an MPE (tank gauges are references, not graded) */
  graded: number;
  faults: number;
  faultsByType: Record<string, number>;
  /** faulty devices whose true |error| exceeded the MPE */
  outOfTolerance: number;
  /** of those, flagged by a replacement order or an out-of-tolerance alert */
  detected: number;
  recall: number;
  /** days from the true crossing of the MPE to the flag (negative: flagged before) */
  medianDelayDays: number | null;
  p90DelayDays: number | null;
  /** orders for devices whose true |error| never exceeded the MPE */
  falseReplacements: number;
  /** per device that never exceeded the MPE */
  falseReplacementRate: number;
  /**
   * of the false replacements, orders on instruments that do have a fault, one that leaves the
   * error within the MPE (a stuck totaliser): a failed metering function, which the regime
   * replaces too (计量功能异常更换), though the error never left tolerance
   */
  falseReplacementsOnFaulty: number;
  /** drift, step, tamper and out-of-tolerance alerts on devices with no fault, per device-year */
  falseAlertsPerDeviceYear: number;
  /** those alerts (counts) by device kind and alert type */
  falseAlertsByType: Record<string, number>;
  /**
   * the change detectors on the drift and step faults, by kind and fault type: faults, those with a
   * drift or step alert at or after the onset, and the median days from onset to the first
   */
  changeAlerts: Record<string, { faults: number; alerted: number; medianDaysFromOnset: number | null }>;
  tamperFaults: number;
  tamperDetected: number;
  tamperRecall: number;
  readings: number;
  runtimeSec: number;
  /** detection delay by kind and fault type: how many were flagged and their median delay (days) */
  delayByType: Record<string, { detected: number; medianDays: number }>;
  /**
   * Customer-meter drifts and steps against an oracle (bound.ts) that knows everything but the
   * fault's size: both medians over the same faults, a fault not confirmed (oracle) or not
   * flagged (analytics) within the run counting as later than any (null: the median itself is
   * beyond the run). `fleetMedianDelayDays` is the fleet's `medianDelayDays` as it would be if
   * those faults were flagged when the oracle confirms them and every other fault as the analytics
   * flagged it: what a perfect area balance alone could make of the headline median. The joint
   * bound (bound.ts) knows the onsets and shapes too but must size every meter's base error and
   * fault and the losses together: what a balance with perfect change detection could reach;
   * `jointFleetMedianDelayDays` puts its confirmations in the headline median as
   * `fleetMedianDelayDays` does the oracle's. `byShape` splits the medians into steps and drifts.
   */
  meterBound: {
    faults: number;
    oracleMedianDelayDays: number | null;
    oracleUnconfirmed: number;
    jointMedianDelayDays: number | null;
    jointUnconfirmed: number;
    medianDelayDays: number | null;
    missed: number;
    fleetMedianDelayDays: number | null;
    jointFleetMedianDelayDays: number | null;
    byShape: Record<'step' | 'drift', { faults: number; medianDelayDays: number | null; oracleMedianDelayDays: number | null; jointMedianDelayDays: number | null }>;
  };
  /** what the analytics missed, by kind and fault type: where its limits are */
  missedByType: Record<string, number>;
  /** meters re-opened by the area balances' step CUSUM, per area-year (real steps and false alarms) */
  stepReopensPerAreaYear: number;
  /** the instruments it missed, by id (site first), for a closer look */
  missedDevices: string[];
  /**
   * every faulty instrument that went out of tolerance, by id: its faults (`type@day`, days from
   * the run's start), and the days from its MPE crossing to its flag (null: missed)
   */
  outOfToleranceDevices: Record<string, { faults: string; delayDays: number | null }>;
  /** false replacements by kind and the evidence behind them */
  falseReplacementsByCause: Record<string, number>;
}

export interface EvalOptions {
  /** ms, the "now" relative scenarios are placed against */
  nowMs?: number;
  /** ms of event time per simulation slice */
  sliceMs?: number;
  onProgress?: (fraction: number) => void;
  /** evaluate only these sites (a shard of the fleet: sites are independent, see evaluate-parallel.ts) */
  sites?: readonly string[];
  /** options of the transformer areas' energy balance, over its defaults (e.g. the step CUSUM) */
  area?: Partial<AreaBalanceOptions>;
}

/** What the analytics did to each device of the sites evaluated: the raw material of the score. */
export interface EvalOutcome {
  firstFlag: [string, number][];
  tamperFlag: [string, number][];
  orderedAt: [string, number][];
  orderBasis: [string, string][];
  /** drift, step, tamper and out-of-tolerance alerts opened on devices with no fault, by device kind and alert type */
  healthyAlertsByType: [string, number][];
  /** faulty devices: when their drift and step alerts opened */
  /** drift and step faults: when their first drift or step alert at or after the onset opened */
  firstChangeAlert: [string, number][];
  readings: number;
  /** the oracle's and the joint bound's confirmations per customer-meter drift or step (see bound.ts) */
  bound: BoundRow[];
  /** meters re-opened by the area balances' step CUSUM */
  stepReopens: number;
}

/** The MPE truth is judged against: the same one the analytics grades with (scales at their most demanding load). */
export function mpeOf(d: Pick<Device, 'kind' | 'accuracyClass' | 'params'>): number | null {
  if (d.kind === 'tank') return null;
  if (d.kind === 'scale') return scaleRatioMpe(d);
  return relativeMpe(d)?.mpe ?? null;
}

/**
 * OIML R 76-1, 3.6.1: several weighings of one load differ by no more than the MPE. The truth
 * reads it as the range of three weighings within the MPE 19 times in 20, so a scale's random
 * error may be at most MPE / 3.314 (the 95 % point of the range of three normal values, in sd) at
 * its reference load, the load its MPE is taken at. Other kinds are not judged on it.
 */
const RANGE_OF_THREE_95 = 3.314;
export const repeatSdOf: RepeatSdOf = (d, mpe) => {
  const refKg = d.kind === 'scale' ? scaleReferenceLoadKg(d.record) : null;
  return refKg === null ? null : (mpe * refKg) / RANGE_OF_THREE_95;
};

const asDevice = (d: SimDevice, createdAt: number): Device => ({ ...d.record, role: d.record.role, params: d.record.params, status: 'active', createdAt }) as Device;

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}

/** The sites of a scenario's fleet with a rough cost of evaluating each (areas dominate: their filter is O(meters²) per interval). */
export function siteCosts(scenario: ScenarioInput, nowMs: number): { site: string; cost: number }[] {
  const fleet = buildFleet(scenario, nowMs);
  return [
    ...fleet.areas.map((a) => ({ site: a.site, cost: 4 * (a.customers.length + 1) ** 2 + 40 * a.customers.length })),
    ...fleet.stations.map((s) => ({ site: s.site, cost: 1500 * s.tanks.length })),
    ...fleet.markets.map((m) => ({ site: m.site, cost: 300 * m.scales.length })),
  ];
}

export function runEvaluation(scenario: ScenarioInput, opts: EvalOptions = {}): EvalResult {
  const t0 = process.hrtime.bigint();
  const nowMs = opts.nowMs ?? Date.now();
  return scoreEvaluation(scenario, nowMs, [evaluateSites(scenario, { ...opts, nowMs })], t0);
}

/** Runs the simulator and the analytics over the scenario's sites (or `opts.sites`) and records what was flagged. */
export function evaluateSites(scenario: ScenarioInput, opts: EvalOptions & { nowMs: number }): EvalOutcome {
  const fleet: Fleet = buildFleet(scenario, opts.nowMs);
  const truth = createTruth(fleet);
  const only = opts.sites ? new Set(opts.sites) : null;
  const bySite = new Map<string, Device[]>();
  for (const d of fleet.devices) {
    if (only && !only.has(d.site)) continue;
    const dev = asDevice(d, fleet.startMs);
    bySite.set(dev.site, [...(bySite.get(dev.site) ?? []), dev]);
  }
  const clock = new ManualClock(fleet.startMs);
  const db = openDb(':memory:');
  const areaEstimators: ReturnType<typeof createAreaEstimator>[] = [];
  const analytics = createAnalytics({
    db,
    clock,
    devicesOfSite: (site) => bySite.get(site) ?? [],
    estimators: {
      area: (site: string, devices: readonly Device[]) => {
        const e = createAreaEstimator(site, devices, opts.area ?? {});
        areaEstimators.push(e);
        return e;
      },
    },
  });

  const firstFlag = new Map<string, number>();
  const tamperFlag = new Map<string, number>();
  const orderedAt = new Map<string, number>();
  const orderBasis = new Map<string, string>();
  const healthyAlertsByType = new Map<string, number>();
  const firstChangeAlert = new Map<string, number>();
  const faulty = new Set(truth.faulty().map((d) => d.id));
  /** onset of each instrument's drift or step fault */
  const changeOnset = new Map<string, number>();
  for (const d of truth.faulty()) {
    const f = truth.faultsOf(d.id).find((x) => x.type === 'drift' || x.type === 'step');
    if (f) changeOnset.set(d.id, f.startMs);
  }
  analytics.onOrder((o) => {
    orderedAt.set(o.deviceId, o.issuedAt);
    orderBasis.set(o.deviceId, `${o.basis}:${o.reasons.map((r) => r.code).join('+')}`);
    if (!firstFlag.has(o.deviceId)) firstFlag.set(o.deviceId, o.issuedAt);
    if (o.basis === 'tamper' && !tamperFlag.has(o.deviceId)) tamperFlag.set(o.deviceId, o.issuedAt);
  });
  analytics.alerts.onChange((a, change) => {
    if (change !== 'opened') return;
    if (a.type === 'out_of_tolerance' && !firstFlag.has(a.deviceId)) firstFlag.set(a.deviceId, a.openedAt);
    if (a.type === 'tamper' && !tamperFlag.has(a.deviceId)) tamperFlag.set(a.deviceId, a.openedAt);
    const onset = changeOnset.get(a.deviceId);
    if (onset !== undefined && a.openedAt >= onset && (a.type === 'drift' || a.type === 'step') && !firstChangeAlert.has(a.deviceId)) firstChangeAlert.set(a.deviceId, a.openedAt);
    if (!faulty.has(a.deviceId) && (a.type === 'drift' || a.type === 'step' || a.type === 'tamper' || a.type === 'out_of_tolerance')) {
      const key = `${a.kind}:${a.type}`;
      healthyAlertsByType.set(key, (healthyAlertsByType.get(key) ?? 0) + 1);
    }
  });

  const state = createFleetState(fleet, only ? (site) => only.has(site) : undefined);
  const slice = opts.sliceMs ?? 6 * 3_600_000;
  let batch: Accepted[] = [];
  let readings = 0;
  const bound = createMeterBound(fleet, truth, (d) => mpeOf(asDevice(d, fleet.startMs)), only ? (site) => only.has(site) : null);
  const emit = (d: SimDevice, r: AnyReading, trueMs: number) => {
    bound.observe(d, r, trueMs);
    batch.push(toAccepted(d, r, trueMs));
  };
  for (let t = fleet.startMs; t < fleet.endMs; t += slice) {
    const to = Math.min(t + slice, fleet.endMs);
    simulate(state, t, to, emit);
    clock.set(to);
    readings += batch.length;
    analytics.ingest(batch);
    batch = [];
    analytics.flush();
    opts.onProgress?.((to - fleet.startMs) / (fleet.endMs - fleet.startMs));
  }
  return {
    firstFlag: [...firstFlag],
    tamperFlag: [...tamperFlag],
    orderedAt: [...orderedAt],
    orderBasis: [...orderBasis],
    healthyAlertsByType: [...healthyAlertsByType],
    firstChangeAlert: [...firstChangeAlert],
    readings,
    bound: bound.result(),
    stepReopens: areaEstimators.reduce((n, e) => n + e.stepReopens(), 0),
  };
}

/** Scores the outcomes of one or more shards against the simulator's ground truth. */
export function scoreEvaluation(scenario: ScenarioInput, nowMs: number, outcomes: readonly EvalOutcome[], t0: bigint): EvalResult {
  const fleet: Fleet = buildFleet(scenario, nowMs);
  const truth = createTruth(fleet);
  const devices = new Map<string, Device>();
  for (const d of fleet.devices) devices.set(d.id, asDevice(d, fleet.startMs));
  const firstFlag = new Map(outcomes.flatMap((o) => o.firstFlag));
  const tamperFlag = new Map(outcomes.flatMap((o) => o.tamperFlag));
  const orderedAt = new Map(outcomes.flatMap((o) => o.orderedAt));
  const orderBasis = new Map(outcomes.flatMap((o) => o.orderBasis));
  const firstChangeAlert = new Map(outcomes.flatMap((o) => o.firstChangeAlert));
  const falseAlertsByType: Record<string, number> = {};
  for (const o of outcomes) for (const [k, v] of o.healthyAlertsByType) falseAlertsByType[k] = (falseAlertsByType[k] ?? 0) + v;
  const alertsOnHealthy = Object.values(falseAlertsByType).reduce((a, n) => a + n, 0);
  const readings = outcomes.reduce((a, o) => a + o.readings, 0);
  const stepReopens = outcomes.reduce((a, o) => a + o.stepReopens, 0);
  const boundRows = outcomes.flatMap((o) => o.bound);

  // ---- score against ground truth
  /** flagged out-of-tolerance faults: days from crossing to flag */
  const delayOf = new Map<string, number>();
  const delaysByType: Record<string, number[]> = {};
  const missedByType: Record<string, number> = {};
  const outOfToleranceDevices: EvalResult['outOfToleranceDevices'] = {};
  const faultsByType: Record<string, number> = {};
  const falseReplacementsByCause: Record<string, number> = {};
  let faults = 0;
  let outOfTolerance = 0;
  let detected = 0;
  let falseReplacements = 0;
  let falseReplacementsOnFaulty = 0;
  let neverOut = 0;
  let tamperFaults = 0;
  let tamperDetected = 0;
  let graded = 0;
  let healthyGraded = 0;
  for (const d of fleet.devices) {
    const dev = devices.get(d.id) as Device;
    const fs = truth.faultsOf(d.id);
    for (const f of fs) {
      faults++;
      faultsByType[`${d.kind}:${f.type}`] = (faultsByType[`${d.kind}:${f.type}`] ?? 0) + 1;
    }
    const mpe = mpeOf(dev);
    if (mpe === null) continue;
    graded++;
    const crossing = truth.outOfToleranceAt(d.id, mpe, repeatSdOf(d, mpe), fleet.startMs, fleet.endMs, SCORE_STEP_MS);
    if (crossing === null) {
      neverOut++;
      if (orderedAt.has(d.id)) {
        falseReplacements++;
        if (fs.length > 0) falseReplacementsOnFaulty++;
        const cause = `${d.kind}:${orderBasis.get(d.id) ?? ''}`;
        falseReplacementsByCause[cause] = (falseReplacementsByCause[cause] ?? 0) + 1;
      }
    }
    if (fs.length === 0) healthyGraded++;
    if (fs.length > 0 && crossing !== null) {
      outOfTolerance++;
      const flag = firstFlag.get(d.id);
      const delay = flag === undefined ? null : (flag - crossing) / DAY;
      outOfToleranceDevices[d.id] = {
        faults: fs.map((f) => `${f.type}@${Math.round((f.startMs - fleet.startMs) / DAY)}`).join('+'),
        // `|| 0`: a delay that rounds to −0 prints as 0, and must compare so after a JSON round trip
        delayDays: delay === null ? null : Math.round(delay * 10) / 10 || 0,
      };
      const key = `${d.kind}:${fs.map((f) => f.type).join('+')}`;
      if (delay !== null) {
        detected++;
        delayOf.set(d.id, delay);
        (delaysByType[key] ??= []).push(delay);
      } else {
        missedByType[key] = (missedByType[key] ?? 0) + 1;
      }
    }
    const tamper = fs.find((f) => f.type === 'tamper');
    if (tamper && d.kind !== 'tank') {
      tamperFaults++;
      const flag = tamperFlag.get(d.id) ?? firstFlag.get(d.id);
      if (flag !== undefined && flag >= tamper.startMs - DAY) tamperDetected++;
    }
  }
  // the change detectors on drift and step faults: alerted at or after the onset, and how soon
  const changeByType: Record<string, number[]> = {};
  const changeFaults: Record<string, number> = {};
  for (const d of fleet.devices) {
    const f = truth.faultsOf(d.id).find((x) => x.type === 'drift' || x.type === 'step');
    if (!f || d.kind === 'tank') continue;
    const key = `${d.kind}:${f.type}`;
    changeFaults[key] = (changeFaults[key] ?? 0) + 1;
    const first = firstChangeAlert.get(d.id);
    if (first !== undefined) (changeByType[key] ??= []).push((first - f.startMs) / DAY);
  }
  const years = (fleet.endMs - fleet.startMs) / (365 * DAY);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const delays = [...delayOf.values()];
  const med = quantile(delays, 0.5);
  const p90 = quantile(delays, 0.9);
  return {
    devices: fleet.devices.length,
    graded,
    faults,
    faultsByType,
    outOfTolerance,
    detected,
    recall: outOfTolerance ? r3(detected / outOfTolerance) : 1,
    medianDelayDays: med === null ? null : r3(med),
    p90DelayDays: p90 === null ? null : r3(p90),
    falseReplacements,
    falseReplacementRate: neverOut ? r3(falseReplacements / neverOut) : 0,
    falseReplacementsOnFaulty,
    falseAlertsPerDeviceYear: healthyGraded ? r3(alertsOnHealthy / (healthyGraded * years)) : 0,
    falseAlertsByType,
    changeAlerts: Object.fromEntries(
      Object.entries(changeFaults).map(([k, n]) => {
        const v = changeByType[k] ?? [];
        const med = quantile(v, 0.5);
        return [k, { faults: n, alerted: v.length, medianDaysFromOnset: med === null ? null : r3(med) }];
      }),
    ),
    tamperFaults,
    tamperDetected,
    tamperRecall: tamperFaults ? r3(tamperDetected / tamperFaults) : 1,
    readings,
    runtimeSec: Math.round(Number(process.hrtime.bigint() - t0) / 1e6) / 1000,
    meterBound: meterBound(boundRows, delayOf, r3),
    stepReopensPerAreaYear: fleet.areas.length ? r3(stepReopens / (fleet.areas.length * years)) : 0,
    delayByType: Object.fromEntries(Object.entries(delaysByType).map(([k, v]) => [k, { detected: v.length, medianDays: r3(quantile(v, 0.5) as number) }])),
    missedByType,
    missedDevices: Object.keys(outOfToleranceDevices).filter((id) => outOfToleranceDevices[id]?.delayDays === null).sort(),
    outOfToleranceDevices: Object.fromEntries(Object.entries(outOfToleranceDevices).sort(([a], [b]) => a.localeCompare(b))),
    falseReplacementsByCause,
  };
}

function meterBound(rows: readonly BoundRow[], delayOf: Map<string, number>, r3: (x: number) => number): EvalResult['meterBound'] {
  // a censored median: the middle of the sorted delays, Infinity when it falls among the unflagged
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    if (s.length === 0) return null;
    const lo = s[(s.length - 1) >> 1] as number;
    const hi = s[s.length >> 1] as number;
    const m = (lo + hi) / 2;
    return Number.isFinite(m) ? r3(m) : null;
  };
  const ours = (r: BoundRow) => delayOf.get(r.id) ?? Infinity;
  const summary = (rs: readonly BoundRow[]) => ({
    faults: rs.length,
    medianDelayDays: median(rs.map(ours)),
    oracleMedianDelayDays: median(rs.map((r) => r.oracleDays ?? Infinity)),
    jointMedianDelayDays: median(rs.map((r) => r.jointDays ?? Infinity)),
  });
  // the headline median with a bound in the balance's place: flagged faults only, as medianDelayDays
  const fleetMedian = (bound: 'oracleDays' | 'jointDays') => {
    const fleet = new Map(delayOf);
    for (const r of rows) {
      const days = r[bound];
      if (days === null) fleet.delete(r.id);
      else fleet.set(r.id, days);
    }
    const fm = quantile([...fleet.values()], 0.5);
    return fm === null ? null : r3(fm);
  };
  const all = summary(rows);
  return {
    faults: all.faults,
    oracleMedianDelayDays: all.oracleMedianDelayDays,
    oracleUnconfirmed: rows.filter((r) => r.oracleDays === null).length,
    jointMedianDelayDays: all.jointMedianDelayDays,
    jointUnconfirmed: rows.filter((r) => r.jointDays === null).length,
    medianDelayDays: all.medianDelayDays,
    missed: rows.filter((r) => !delayOf.has(r.id)).length,
    fleetMedianDelayDays: fleetMedian('oracleDays'),
    jointFleetMedianDelayDays: fleetMedian('jointDays'),
    byShape: { step: summary(rows.filter((r) => r.shape === 'step')), drift: summary(rows.filter((r) => r.shape === 'drift')) },
  };
}
