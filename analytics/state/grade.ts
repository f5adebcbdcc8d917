import { trendDirection, type InstrumentMonitor } from './monitor.js';

/**
 * State evaluation (状态评价): A healthy, B watch, C priority for sampling verification,
 * D replace. Every grade carries its reasons, in Chinese and English, in words a regulator uses.
 */
export type Grade = 'A' | 'B' | 'C' | 'D';

export interface Reason {
  code: string;
  zh: string;
  en: string;
}

export interface DataQuality {
  /** the device has been silent for longer than its reporting interval allows */
  silent: boolean;
  /** |device clock − platform clock| beyond the tolerance */
  clockSkew: boolean;
  /** quarantined messages in the last day */
  quarantined: number;
}

/** A sign seen in the instrument's data, in words: a tamper signature or a failed requirement (estimate/types.ts Nonconformity). */
export interface SignEvidence {
  code: string;
  zh: string;
  en: string;
  /** ms */
  at: number;
}

export interface GradePolicy {
  /** P(|error| > MPE) at or above which replacement is ordered */
  replaceP: number;
  /** P(|error| > MPE) at or above which the instrument is a priority for verification */
  priorityP: number;
  /** |error| / MPE above which it is watched */
  watchRatio: number;
  /** ms: a projected crossing within this horizon makes it a priority */
  priorityHorizonMs: number;
  /** ms: a projected crossing within this horizon puts it on watch */
  watchHorizonMs: number;
  /**
   * consecutive estimates meeting the replacement probability before an order on inaccuracy is
   * issued: one estimate can carry a model error its uncertainty does not show (a neighbour's
   * step not yet attributed), two in a row from a re-learning filter rarely do
   */
  persist: number;
  /**
   * estimates an instrument must have before inaccuracy alone can order its replacement: an
   * estimator's first weeks carry model error (losses not yet learned, neighbours not yet told
   * apart) that its uncertainty does not show; tamper signatures need no such wait
   */
  minEstimates: number;
  /** instruments of one site qualifying for replacement on inaccuracy within the window that hold the site's orders (see engine) */
  coherenceCount: number;
  /** ms */
  coherenceWindowMs: number;
}

export const GRADE_POLICY: GradePolicy = {
  replaceP: 0.95,
  priorityP: 0.5,
  watchRatio: 0.5,
  priorityHorizonMs: 90 * 86_400_000,
  watchHorizonMs: 365 * 86_400_000,
  persist: 2,
  minEstimates: 14,
  coherenceCount: 2,
  coherenceWindowMs: 14 * 86_400_000,
};

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
/**
 * An error in MPE units as people read it: "62% of the MPE", or, far outside tolerance,
 * "3.4× the MPE" (a stuck register is −100 %: fifty times a 2 % MPE, not "−5000 %").
 */
export function mpeShare(ratio: number, lang: 'zh' | 'en'): string {
  if (Math.abs(ratio) < 3) return lang === 'zh' ? `最大允许误差的 ${pct(ratio)}` : `${pct(ratio)} of the MPE`;
  const x = `${ratio < 0 ? '−' : '+'}${Math.abs(ratio).toFixed(Math.abs(ratio) < 10 ? 1 : 0)}`;
  return lang === 'zh' ? `最大允许误差的 ${x} 倍` : `${x}× the MPE`;
}
const days = (ms: number) => Math.max(0, Math.round(ms / 86_400_000));

export interface Evaluation {
  grade: Grade;
  reasons: Reason[];
  /** the replacement rule fired: P(out) ≥ replaceP, a tamper signature or a failed requirement */
  replace: boolean;
}

/**
 * The replacement rule on inaccuracy: P(out of tolerance) at the policy's level on `persist`
 * consecutive estimates, after `minEstimates` in all.
 */
export function meetsReplacement(m: Pick<InstrumentMonitor, 'pOut' | 'n'>, outRun: number, policy: GradePolicy): boolean {
  return m.pOut >= policy.replaceP && outRun >= policy.persist && m.n >= policy.minEstimates;
}

/** Whether the instrument's trend is more than noise (monitor.ts trendDirection): the grade counts a projected crossing only then, and the instrument page dates one only then. */
export function trendIsReal(m: Pick<InstrumentMonitor, 'trend' | 'sd'>): boolean {
  return trendDirection(m.trend, m.sd) !== 0;
}

/**
 * Grades one instrument. `outRun` is how many consecutive estimates met the replacement
 * probability: the rule needs `policy.persist` of them and `policy.minEstimates` estimates in all.
 */
export function evaluate(m: InstrumentMonitor, quality: DataQuality, tamper: readonly SignEvidence[], policy: GradePolicy = GRADE_POLICY, outRun = Infinity, failed: readonly SignEvidence[] = []): Evaluation {
  const reasons: Reason[] = [];
  let grade = 'A' as Grade;
  const raise = (g: Grade) => {
    if (g > grade) grade = g;
  };
  const ratio = Math.abs(m.r);
  const known = Number.isFinite(m.sd);

  if (tamper.length > 0) {
    raise('D');
    for (const t of tamper) reasons.push({ code: t.code, zh: `篡改迹象：${t.zh}`, en: `Tamper sign: ${t.en}` });
  }
  if (failed.length > 0) {
    raise('D');
    for (const f of failed) reasons.push({ code: f.code, zh: f.zh, en: f.en });
  }
  if (known && meetsReplacement(m, outRun, policy)) {
    raise('D');
    reasons.push({
      code: 'out_of_tolerance',
      zh: `误差估计为${mpeShare(m.r, 'zh')}，超差概率 ${pct(m.pOut)}，达到失准更换条件`,
      en: `Error estimate is ${mpeShare(m.r, 'en')}; probability of being out of tolerance ${pct(m.pOut)}, meeting the replacement rule`,
    });
  } else if (known && m.pOut >= policy.priorityP) {
    raise('C');
    reasons.push({
      code: 'likely_out_of_tolerance',
      zh: `误差估计为${mpeShare(m.r, 'zh')}，超差概率 ${pct(m.pOut)}`,
      en: `Error estimate is ${mpeShare(m.r, 'en')}; probability of being out of tolerance ${pct(m.pOut)}`,
    });
  } else if (known && ratio >= policy.watchRatio) {
    raise('B');
    reasons.push({ code: 'error_high', zh: `误差估计达到${mpeShare(m.r, 'zh')}`, en: `Error estimate at ${mpeShare(m.r, 'en')}` });
  }
  const t = m.trend;
  if (t && trendIsReal(m) && t.crossingAt !== null && ratio < 1 && m.settled) {
    const until = t.crossingAt - m.ts;
    if (until <= policy.priorityHorizonMs) {
      raise('C');
      reasons.push({ code: 'trend_crossing', zh: `按当前趋势约 ${days(until)} 天后超出最大允许误差`, en: `At the current trend the error reaches the MPE in about ${days(until)} days` });
    } else if (until <= policy.watchHorizonMs) {
      raise('B');
      reasons.push({ code: 'trend_crossing', zh: `按当前趋势约 ${days(until)} 天后超出最大允许误差`, en: `At the current trend the error reaches the MPE in about ${days(until)} days` });
    }
  }
  if (m.change) {
    raise('C');
    const what = { jump: ['突变', 'sudden jump'], step: ['阶跃变化', 'step change'], drift: ['缓慢漂移', 'slow drift'] }[m.change.kind];
    reasons.push({ code: `change_${m.change.kind}`, zh: `检测到误差${what[0]}`, en: `A ${what[1]} of the error was detected` });
  }
  if (quality.silent) {
    raise('B');
    reasons.push({ code: 'silent', zh: '设备长时间未上报数据', en: 'The device has stopped reporting' });
  }
  if (quality.clockSkew) {
    raise('B');
    reasons.push({ code: 'clock_skew', zh: '设备时钟偏差超出允许范围', en: 'The device clock is off beyond tolerance' });
  }
  if (quality.quarantined > 10) {
    raise('B');
    reasons.push({ code: 'quarantine', zh: `近一天有 ${quality.quarantined} 条报文被隔离`, en: `${quality.quarantined} messages quarantined in the last day` });
  }
  if (!known) reasons.push({ code: 'no_estimate', zh: '尚无足够数据估计误差', en: 'Not enough data yet to estimate the error' });
  if (reasons.length === 0) reasons.push({ code: 'healthy', zh: `误差在最大允许误差的 ${pct(m.r)} 以内，状态良好`, en: `Error within ${pct(m.r)} of the MPE; healthy` });
  return { grade, reasons, replace: grade === 'D' };
}
