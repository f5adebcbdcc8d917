import { describe, expect, it } from 'vitest';
import { hypergeomCdf, hypergeomPmf } from '../../analytics/sampling/hypergeometric.js';
import { lqPlan, ocCurve, pAccept } from '../../analytics/sampling/iso2859-2.js';
import { messevDecide, messevPlan } from '../../analytics/sampling/messev.js';
import { variablesDecide, variablesPlan } from '../../analytics/sampling/variables.js';
import { INITIAL_SWITCHING, nextSwitching, type SwitchingState } from '../../analytics/sampling/switching.js';
import { selectSample } from '../../analytics/sampling/selection.js';
import { mulberry32 } from '../../analytics/sampling/rng.js';
import { Rng } from '../../devices-sim/rng.js';
import { planFor } from '../../analytics/sampling/plans.js';
import { acceptedOneStepTighter } from '../../analytics/sampling/iso2859-1.js';
import { decide } from '../../analytics/sampling/decision.js';
import { probit } from 'simple-statistics';

describe('hypergeometric', () => {
  it('sums to one and matches a hand value', () => {
    let s = 0;
    for (let x = 0; x <= 10; x++) s += hypergeomPmf(x, 50, 10, 10);
    expect(s).toBeCloseTo(1, 12);
    // C(5,0)·C(15,4)/C(20,4) = 1365/4845
    expect(hypergeomPmf(0, 20, 5, 4)).toBeCloseTo(1365 / 4845, 12);
  });
});

describe('ISO 2859-2 plans derived from the hypergeometric distribution', () => {
  const cases = [
    { lotSize: 1200, lq: 0.05, beta: 0.1 },
    { lotSize: 1200, lq: 0.08, beta: 0.1 },
    { lotSize: 261_772, lq: 0.05, beta: 0.1 },
    { lotSize: 300, lq: 0.2, beta: 0.05 },
    { lotSize: 40, lq: 0.125, beta: 0.1 },
  ];
  for (const c of cases) {
    it(`N ${c.lotSize}, LQ ${c.lq}, β ${c.beta}: P(accept | LQ) ≤ β and > β for n − 1`, () => {
      const p = lqPlan(c);
      const D = Math.ceil(c.lq * c.lotSize);
      expect(p.defectivesAtLq).toBe(D);
      expect(pAccept(c.lotSize, p.sampleSize, p.accept, D)).toBeLessThanOrEqual(c.beta);
      expect(pAccept(c.lotSize, p.sampleSize - 1, p.accept, D)).toBeGreaterThan(c.beta);
    });
  }
  it('c = 0 near the binomial value for a large lot: n = ceil(ln β / ln(1 − LQ))', () => {
    expect(lqPlan({ lotSize: 261_772, lq: 0.05, beta: 0.1 }).sampleSize).toBe(45);
  });
  it('with a producer condition, c grows and both risks hold, and no smaller n does', () => {
    const o = { lotSize: 1200, lq: 0.08, beta: 0.1, producer: { quality: 0.01, alpha: 0.05 } };
    const p = lqPlan(o);
    const D = Math.ceil(0.08 * 1200);
    expect(p.accept).toBeGreaterThan(0);
    expect(pAccept(1200, p.sampleSize, p.accept, D)).toBeLessThanOrEqual(0.1);
    expect(pAccept(1200, p.sampleSize, p.accept, 12)).toBeGreaterThanOrEqual(0.95);
    for (let n = 1; n < p.sampleSize; n++) {
      let c = -1;
      while (c + 1 < n && pAccept(1200, n, c + 1, D) <= 0.1) c++;
      expect(c < 0 || pAccept(1200, n, c, 12) < 0.95).toBe(true);
    }
  });
  it('the OC curve starts at 1 and falls monotonically', () => {
    const p = lqPlan({ lotSize: 1200, lq: 0.05, beta: 0.1 });
    const oc = ocCurve(1200, p.sampleSize, p.accept);
    expect(oc[0]).toEqual({ fraction: 0, defectives: 0, pAccept: 1 });
    for (let i = 1; i < oc.length; i++) expect((oc[i] as { pAccept: number }).pAccept).toBeLessThanOrEqual((oc[i - 1] as { pAccept: number }).pAccept);
    expect(hypergeomCdf(0, 1200, 60, p.sampleSize)).toBeLessThanOrEqual(0.1);
  });
});

describe('§35 MessEV criterion', () => {
  it('c = 0 plan: a lot with just over 5 % nonconforming passes with probability ≤ 5 %', () => {
    const p = messevPlan({ lotSize: 1200 });
    expect(p.defectivesAtLq).toBe(61);
    expect(p.pAcceptAtLq).toBeLessThanOrEqual(0.05);
    expect(messevDecide({ lotSize: 1200, sampleSize: p.sampleSize, failures: 0 }).accept).toBe(true);
    expect(messevDecide({ lotSize: 1200, sampleSize: p.sampleSize, failures: 1 }).accept).toBe(false);
  });
});

describe('ISO 3951-1 style variables plan (approximation, flagged)', () => {
  it('gives (n, k) whose normal-theory OC meets both risks approximately', () => {
    const p = variablesPlan({ aql: 0.01, lq: 0.05 });
    expect(p.unconfirmed).toBe(true);
    expect(p.k).toBeGreaterThan(1.64);
    expect(p.k).toBeLessThan(2.33);
    expect(p.sampleSize).toBeGreaterThan(10);
    expect(p.sampleSize).toBeLessThan(80);
  });
  it('accepts tight errors and rejects a biased lot', () => {
    expect(variablesDecide([0.1, -0.1, 0.2, 0, 0.05, -0.05], 2).accept).toBe(true);
    expect(variablesDecide([0.8, 0.9, 0.95, 0.7, 0.85], 2).accept).toBe(false);
  });

  // normal errors in MPE units from the project's seeded generator
  const normals = (seed: number) => {
    const r = new Rng(seed);
    return () => r.normal();
  };
  const acceptance = (mu: number, sigma: number, n: number, k: number, lots = 4000) => {
    const z = normals(2024);
    let acc = 0;
    for (let l = 0; l < lots; l++) if (variablesDecide(Array.from({ length: n }, () => mu + sigma * z()), k).accept) acc++;
    return acc / lots;
  };
  it('keeps the consumer risk at the LQ whether the nonconforming lie beyond one limit or both (combined control)', () => {
    const p = variablesPlan({ aql: 0.01, lq: 0.05 });
    const zq = (q: number) => probit(1 - q);
    // centred: 2.5 % beyond each limit; one-sided: 5 % beyond +1, none beyond −1
    const centred = acceptance(0, 1 / zq(0.025), p.sampleSize, p.k);
    const oneSided = acceptance(1 - zq(0.05) * 0.2, 0.2, p.sampleSize, p.k);
    expect(centred).toBeLessThan(0.15);
    expect(oneSided).toBeLessThan(0.15);
    // and accepts a lot at the AQL (1 % beyond the limits, centred) most of the time
    expect(acceptance(0, 1 / zq(0.005), p.sampleSize, p.k)).toBeGreaterThan(0.85);
  });
  it('with one limit far away, decides exactly as x̄ + k·s against the other', () => {
    const z = normals(7);
    for (let l = 0; l < 500; l++) {
      const r = Array.from({ length: 20 }, () => 0.6 + 0.15 * z());
      const d = variablesDecide(r, 1.9);
      expect(d.accept).toBe(d.upper <= 1);
    }
  });
  it('decides a lot inspected in full by its known fraction nonconforming, not by the s-method', () => {
    const plan = planFor({ scheme: 'iso3951-1', aql: 0.05, lq: 0.2, alpha: 0.05, beta: 0.1 }, 20);
    expect(plan.sampleSize).toBe(20);
    const results = Array.from({ length: 20 }, (_, i) => ({ pass: true, error: i % 2 ? 0.012 : -0.012, mpe: 0.02 }));
    expect(decide(plan, 20, results as never).outcome).toBe('accept');
    const failing = results.map((r, i) => (i < 2 ? { ...r, pass: false, error: 0.03 } : r));
    expect(decide(plan, 20, failing as never).outcome).toBe('reject');
  });
});

describe('ISO 2859-2 lot sizes where LQ × N is a whole number', () => {
  it('counts LQ × N nonconforming, not one more from floating-point rounding', () => {
    expect(lqPlan({ lotSize: 100, lq: 0.07 }).defectivesAtLq).toBe(7);
    expect(lqPlan({ lotSize: 50, lq: 0.14 }).defectivesAtLq).toBe(7);
    const p = lqPlan({ lotSize: 100, lq: 0.07 });
    expect(pAccept(100, p.sampleSize, p.accept, 7)).toBeLessThanOrEqual(0.1);
  });
});

describe('switching rules', () => {
  const run = (s: SwitchingState, lots: boolean[], ac = 1) => lots.reduce((st, a) => nextSwitching(st, { accepted: a, accept: ac, reducedApproved: true }), s);
  it('normal → tightened after 2 rejections in 5 lots, back after 5 accepted', () => {
    const t = run(INITIAL_SWITCHING, [true, false, true, false]);
    expect(t.inspection).toBe('tightened');
    expect(run(t, [true, true, true, true]).inspection).toBe('tightened');
    expect(run(t, [true, true, true, true, true]).inspection).toBe('normal');
  });
  it('two rejections six lots apart do not tighten', () => {
    expect(run(INITIAL_SWITCHING, [false, true, true, true, true, false]).inspection).toBe('normal');
  });
  it('normal → reduced at switching score 30 (Ac ≤ 1: +2 per accepted lot), reduced → normal on a rejection', () => {
    const r = run(INITIAL_SWITCHING, Array(15).fill(true));
    expect(r.inspection).toBe('reduced');
    expect(run(INITIAL_SWITCHING, Array(14).fill(true)).inspection).toBe('normal');
    expect(run(r, [false]).inspection).toBe('normal');
  });
  it('scores +3 for an accepted Ac ≥ 2 lot that would have passed one AQL step tighter (9.3.3.2 b)', () => {
    // code letter K, AQL 2.5: n = 125, Ac 7; one step tighter (1.5): Ac 5
    expect(acceptedOneStepTighter('normal', 'K', '2.5', 5)).toBe(true);
    expect(acceptedOneStepTighter('normal', 'K', '2.5', 6)).toBe(false);
    expect(acceptedOneStepTighter('normal', 'K', '0.010', 0)).toBeNull();
    const s = nextSwitching(INITIAL_SWITCHING, { accepted: true, accept: 7, acceptedOneStepTighter: true });
    expect(s.score).toBe(3);
    expect(nextSwitching(s, { accepted: true, accept: 7, acceptedOneStepTighter: false }).score).toBe(0);
  });
  it('discontinues after 5 rejections on tightened', () => {
    const t = run(INITIAL_SWITCHING, [false, false]);
    expect(run(t, [false, true, false, true, false, false, true, false]).inspection).toBe('discontinued');
  });
});

describe('seeded selection', () => {
  const ids = Array.from({ length: 1200 }, (_, i) => `m-${String(i).padStart(4, '0')}`);
  it('same seed and members in any order: same list; another seed: another list', () => {
    const a = selectSample(ids, 80, 42);
    const b = selectSample([...ids].reverse(), 80, 42);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(80);
    expect(selectSample(ids, 80, 43)).not.toEqual(a);
  });
  it('Mulberry32 reference values (first: 0.6270739405881613 × 2³², the published value for seed 1)', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([2693262067, 11749833, 2265367787]);
  });
});
