import { describe, expect, it } from 'vitest';
import { evaluateSites, runEvaluation, scoreEvaluation, siteCosts } from '../../devices-sim/evaluate.js';
import { shardSites } from '../../devices-sim/evaluate-parallel.js';
import { SMALL_EVAL } from './eval-scenario.js';

const NOW = Date.UTC(2026, 0, 1);
const withoutRuntime = <T extends { runtimeSec: number }>(r: T) => ({ ...r, runtimeSec: 0 });

describe('driftwatch eval', () => {
  it('flags every large fault of a small scenario, and every tamper as a tamper', () => {
    const r = runEvaluation(SMALL_EVAL, { nowMs: NOW });
    expect(r.devices).toBe(r.graded + 2); // the two tank gauges are references, not graded
    expect(r.faults).toBe(7);
    expect(r.outOfTolerance).toBe(6); // the offline meter never leaves tolerance
    expect(r.recall).toBe(1);
    expect(r.tamperRecall).toBe(1);
    expect(r.falseReplacements).toBe(0);
    expect(r.medianDelayDays).toBeLessThan(7);
    // every instrument out of tolerance listed with its faults and delay: the tampers flagged
    // within a day, the large steps after a week or two of learning the area
    const listed = Object.values(r.outOfToleranceDevices);
    expect(listed.map((d) => d.faults.replace(/@\d+/g, '')).sort()).toEqual(['step', 'step', 'tamper', 'tamper', 'tamper', 'tamper']);
    for (const d of listed) {
      if (d.faults.startsWith('tamper')) expect(Math.abs(d.delayDays!)).toBeLessThanOrEqual(1);
      else expect(d.delayDays!).toBeGreaterThan(3);
    }
    expect(r.missedDevices).toEqual([]);
    // the two large steps against the oracle that knows everything but their size: it confirms
    // them at once; the analytics must first learn the area (14 daily estimates before an order)
    expect(r.meterBound.faults).toBe(2);
    expect(r.meterBound.oracleUnconfirmed).toBe(0);
    expect(r.meterBound.oracleMedianDelayDays!).toBeLessThan(1);
    expect(r.meterBound.oracleMedianDelayDays!).toBeLessThan(r.meterBound.medianDelayDays!);
    // the joint bound knows less (every base error and the losses are sized with the steps), so it
    // confirms no sooner than the oracle; a 15–25 % step still shows within a day of its crossing
    expect(r.meterBound.jointUnconfirmed).toBe(0);
    expect(r.meterBound.jointMedianDelayDays!).toBeGreaterThanOrEqual(r.meterBound.oracleMedianDelayDays!);
    expect(r.meterBound.jointMedianDelayDays!).toBeLessThanOrEqual(1);
    expect(r.meterBound.byShape.step.faults).toBe(2);
    expect(r.meterBound.byShape.drift.faults).toBe(0);
    // with the oracle's flags in place of the balance's, the two steps move from ~11 days to the
    // crossing, among the tampers that set the fleet's median here: it cannot rise
    expect(r.meterBound.fleetMedianDelayDays!).toBeLessThanOrEqual(r.medianDelayDays!);
    // the joint bound's flags come no sooner than the oracle's, and no later than the balance's here
    expect(r.meterBound.jointFleetMedianDelayDays!).toBeGreaterThanOrEqual(r.meterBound.fleetMedianDelayDays!);
    expect(r.meterBound.jointFleetMedianDelayDays!).toBeLessThanOrEqual(r.medianDelayDays!);
    // the balance's step CUSUM re-opens meters (mostly false alarms); with it off, none
    expect(r.stepReopensPerAreaYear).toBeGreaterThan(0);
    expect(runEvaluation(SMALL_EVAL, { nowMs: NOW, area: { stepThreshold: Infinity } }).stepReopensPerAreaYear).toBe(0);
  });

  it('sizes faults in the joint bound together with every base error and the losses, no sooner than the oracle', () => {
    // faults of a few MPE, where the bounds' variances decide the dates (the large ones above show at once)
    const r = runEvaluation(
      {
        ...SMALL_EVAL,
        days: 60,
        faults: [
          { kind: 'meter', type: 'step', count: 3, startDay: [10, 20], sizePct: [3, 4] },
          { kind: 'meter', type: 'drift', count: 3, startDay: [3, 8], ratePctPerYear: [25, 35] },
        ],
      },
      { nowMs: NOW },
    );
    const { drift, step } = r.meterBound.byShape;
    expect(drift.faults).toBe(3);
    expect(step.faults).toBe(3);
    expect(r.meterBound.jointUnconfirmed).toBe(0);
    expect(step.jointMedianDelayDays!).toBeGreaterThanOrEqual(step.oracleMedianDelayDays!);
    // a drift's base error and losses must be told from a slope the oracle is given: strictly later
    expect(drift.jointMedianDelayDays!).toBeGreaterThan(drift.oracleMedianDelayDays!);
    // a drift's size is a rate, learned from a lever arm that starts at zero: later than a step's
    expect(drift.jointMedianDelayDays!).toBeGreaterThan(step.jointMedianDelayDays!);
    // and the analytics, which knows no onset, is slower than both
    expect(r.meterBound.medianDelayDays!).toBeGreaterThan(r.meterBound.jointMedianDelayDays!);
  });

  it('counts an order on a stuck totaliser, whose error never leaves tolerance, among the false ones and apart', () => {
    const plain = runEvaluation(SMALL_EVAL, { nowMs: NOW });
    expect(plain.falseReplacementsOnFaulty).toBe(0);
    const r = runEvaluation({ ...SMALL_EVAL, faults: [...(SMALL_EVAL.faults ?? []), { kind: 'dispenser', type: 'stuck', count: 1, startDay: [10, 20] }] }, { nowMs: NOW });
    // the order's basis names the stuck totaliser (its other reasons follow it)
    expect(Object.entries(r.falseReplacementsByCause).filter(([k]) => k.startsWith('dispenser:tamper:totalizer_stuck'))).toEqual([[expect.any(String), 1]]);
    expect(r.falseReplacementsOnFaulty).toBe(1);
    expect(r.falseReplacements).toBe(plain.falseReplacements + 1);
  });

  it('counts a scale too noisy to repeat within its MPE as out of tolerance, and orders it replaced for that, not as a false order', () => {
    const scenario = { ...SMALL_EVAL, faults: [...(SMALL_EVAL.faults ?? []), { kind: 'scale' as const, type: 'noise' as const, count: 1, startDay: [10, 20] as [number, number] }] };
    const outcome = evaluateSites(scenario, { nowMs: NOW });
    const r = scoreEvaluation(scenario, NOW, [outcome], process.hrtime.bigint());
    const noisy = Object.entries(r.outOfToleranceDevices).filter(([, d]) => d.faults.startsWith('noise'));
    expect(noisy.length).toBe(1);
    expect(new Map(outcome.orderBasis).get(noisy[0]![0])).toBe('nonconformity:repeatability');
    // flagged within days of the onset, from the scatter of its no-load indications
    expect(noisy[0]![1].delayDays!).toBeGreaterThanOrEqual(0);
    expect(noisy[0]![1].delayDays!).toBeLessThan(4);
    expect(r.falseReplacements).toBe(0);
    expect(r.recall).toBe(1);
  });

  it('scores shards of sites evaluated apart exactly as the whole fleet in one run', () => {
    const whole = runEvaluation(SMALL_EVAL, { nowMs: NOW });
    const shards = shardSites(siteCosts(SMALL_EVAL, NOW), 3);
    expect(shards.flat().sort()).toEqual(siteCosts(SMALL_EVAL, NOW).map((c) => c.site).sort());
    const outcomes = shards.map((sites) => evaluateSites(SMALL_EVAL, { nowMs: NOW, sites }));
    const merged = scoreEvaluation(SMALL_EVAL, NOW, outcomes, process.hrtime.bigint());
    expect(withoutRuntime(merged)).toEqual(withoutRuntime(whole));
  });

  it('splits sites into shards of about equal cost, heaviest first', () => {
    const costs = [9, 7, 6, 5, 4, 3, 2, 2].map((cost, i) => ({ site: `S${i}`, cost }));
    const shards = shardSites(costs, 2);
    const load = (s: string[]) => s.reduce((a, x) => a + costs.find((c) => c.site === x)!.cost, 0);
    expect(shards).toHaveLength(2);
    expect(Math.abs(load(shards[0]!) - load(shards[1]!))).toBeLessThanOrEqual(2);
    expect(shardSites(costs.slice(0, 1), 4)).toEqual([['S0']]);
  });
});
