import { describe, expect, it } from 'vitest';
import { hypergeomCdf, hypergeomPmf } from '../../analytics/sampling/hypergeometric.js';
import { lqPlan, ocCurve, pAccept } from '../../analytics/sampling/iso2859-2.js';
import { messevDecide, messevPlan } from '../../analytics/sampling/messev.js';
import { variablesDecide, variablesPlan } from '../../analytics/sampling/variables.js';
import { INITIAL_SWITCHING, nextSwitching, type SwitchingState } from '../../analytics/sampling/switching.js';
import { selectSample } from '../../analytics/sampling/selection.js';
import { mulberry32 } from '../../analytics/sampling/rng.js';

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
