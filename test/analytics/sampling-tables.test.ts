import { describe, expect, it } from 'vitest';
import { codeLetter, singleSamplingPlan, resolveCell } from '../../analytics/sampling/iso2859-1.js';
import { samplingPlanCommand } from '../../cli/sampling-plan.js';

// ISO 2859-1 Table 1, general levels (DOMAIN.md §5, confirmed): each range's lower and upper bound.
const TABLE1: [number, number | null, string, string, string][] = [
  [2, 8, 'A', 'A', 'B'], [9, 15, 'A', 'B', 'C'], [16, 25, 'B', 'C', 'D'], [26, 50, 'C', 'D', 'E'], [51, 90, 'C', 'E', 'F'],
  [91, 150, 'D', 'F', 'G'], [151, 280, 'E', 'G', 'H'], [281, 500, 'F', 'H', 'J'], [501, 1200, 'G', 'J', 'K'], [1201, 3200, 'H', 'K', 'L'],
  [3201, 10000, 'J', 'L', 'M'], [10001, 35000, 'K', 'M', 'N'], [35001, 150000, 'L', 'N', 'P'], [150001, 500000, 'M', 'P', 'Q'], [500001, null, 'N', 'Q', 'R'],
];

describe('ISO 2859-1 Table 1 code letters', () => {
  for (const [lo, hi, I, II, III] of TABLE1) {
    it(`lot ${lo}–${hi ?? '∞'}: ${I} ${II} ${III}`, () => {
      for (const n of [lo, hi ?? 2_000_000]) {
        expect([codeLetter(n, 'I'), codeLetter(n, 'II'), codeLetter(n, 'III')]).toEqual([I, II, III]);
      }
    });
  }
  it('special levels at sample lot sizes', () => {
    expect(['S-1', 'S-2', 'S-3', 'S-4'].map((l) => codeLetter(1200, l as 'S-1'))).toEqual(['C', 'C', 'E', 'F']);
    expect(['S-1', 'S-2', 'S-3', 'S-4'].map((l) => codeLetter(600_000, l as 'S-1'))).toEqual(['D', 'E', 'H', 'K']);
  });
  it('refuses a lot of one', () => expect(() => codeLetter(1)).toThrow(/lot size/));
});

const N: Record<string, number> = { A: 2, B: 3, C: 5, D: 8, E: 13, F: 20, G: 32, H: 50, J: 80, K: 125, L: 200, M: 315, N: 500, P: 800, Q: 1250, R: 2000 };
const L = Object.keys(N);
/**
 * Table 2-A written out per AQL column, A…R, as the standard prints it ('v' ↓, '^' ↑), from the
 * recalled columns of DOMAIN.md §5 and the diagonal: each column is the previous one moved one letter.
 */
const COLUMNS: Record<string, string> = {
  '0.40': 'v v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15',
  '0.65': 'v v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22',
  '1.0': 'v v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^',
  '1.5': 'v v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^',
  '2.5': 'v v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^',
  '4.0': 'v 0/1 ^ v 1/2 2/3 3/4 5/6 7/8 10/11 14/15 21/22 ^ ^ ^ ^',
};
const cells = (aql: string) => (COLUMNS[aql] as string).split(' ');

/** The expected plan of a cell: follow the arrows in the written-out column. */
function expected(aql: string, letter: string): { n: number; ac: number; re: number } {
  const col = cells(aql);
  let i = L.indexOf(letter);
  while (col[i] === 'v' || col[i] === '^') i += col[i] === 'v' ? 1 : -1;
  const [ac, re] = (col[i] as string).split('/').map(Number) as [number, number];
  return { n: N[L[i] as string] as number, ac, re };
}

describe('ISO 2859-1 Table 2-A, normal inspection, cell by cell', () => {
  for (const aql of Object.keys(COLUMNS)) {
    for (const letter of L) {
      it(`AQL ${aql}, ${letter}`, () => {
        const e = expected(aql, letter);
        const got = resolveCell('normal', letter, aql);
        expect({ n: got.n, ac: got.ac, re: got.re }).toEqual(e);
        expect(got.edge).toBe(false);
      });
    }
  }
  it('DOMAIN.md §5 recalled entries, arrows included', () => {
    expect(resolveCell('normal', 'F', '1.0')).toMatchObject({ planLetter: 'E', n: 13, ac: 0, re: 1 });
    expect(resolveCell('normal', 'G', '1.0')).toMatchObject({ planLetter: 'H', n: 50, ac: 1, re: 2 });
    expect(resolveCell('normal', 'D', '2.5')).toMatchObject({ planLetter: 'C', n: 5, ac: 0, re: 1 });
    expect(resolveCell('normal', 'E', '2.5')).toMatchObject({ planLetter: 'F', n: 20, ac: 1, re: 2 });
    expect(resolveCell('normal', 'N', '2.5')).toMatchObject({ n: 500, ac: 21, re: 22 });
    expect(resolveCell('normal', 'Q', '1.0')).toMatchObject({ n: 1250, ac: 21, re: 22 });
    expect(resolveCell('normal', 'R', '1.0')).toMatchObject({ planLetter: 'Q', n: 1250, ac: 21, re: 22 });
  });
  it('flags the edge cells whose arrows lead off the table', () => {
    expect(resolveCell('normal', 'A', '10')).toMatchObject({ edge: true, planLetter: 'C', ac: 1, re: 2 });
    expect(resolveCell('normal', 'R', '0.015')).toMatchObject({ edge: true, planLetter: 'P', ac: 0, re: 1 });
  });
});

describe('singleSamplingPlan and the CLI', () => {
  it('1 200 meters, AQL 1.0, level II: J, 80, 2/3', () => {
    expect(singleSamplingPlan({ lotSize: 1200, aql: 1 })).toMatchObject({ codeLetter: 'J', sampleSize: 80, accept: 2, reject: 3, hundredPercent: false });
  });
  it('caps the sample at the lot size: 100 % inspection', () => {
    // lot 10, level II → B; AQL 1.0 column ↓ to E (n = 13) > 10
    expect(singleSamplingPlan({ lotSize: 10, aql: 1 })).toMatchObject({ codeLetter: 'B', sampleSize: 10, accept: 0, reject: 1, hundredPercent: true });
  });
  it('tightened, code letter A at AQL 10: its own plan, n = 2, 0/1 (ISO 2859-1:1999; ANSI/ASQ Z1.4 sends it down to D)', () => {
    expect(singleSamplingPlan({ lotSize: 8, aql: 10, inspection: 'tightened' })).toMatchObject({ codeLetter: 'A', planLetter: 'A', sampleSize: 2, accept: 0, reject: 1 });
  });
  it('reduced inspection follows Table 2-C, Re = Ac + 1', () => {
    // lot 125, level III → G; the 1.0 column runs down past H to J: n = 32, 1/2
    expect(singleSamplingPlan({ lotSize: 125, aql: 1, level: 'III', inspection: 'reduced' })).toMatchObject({ codeLetter: 'G', planLetter: 'J', sampleSize: 32, accept: 1, reject: 2 });
    // R at 0.015 and 0.010: up to the 0/1 plans of P (315) and Q (500)
    expect(singleSamplingPlan({ lotSize: 600_000, aql: 0.015, level: 'III', inspection: 'reduced' })).toMatchObject({ codeLetter: 'R', sampleSize: 315, accept: 0, reject: 1 });
    expect(singleSamplingPlan({ lotSize: 600_000, aql: 0.01, level: 'III', inspection: 'reduced' })).toMatchObject({ codeLetter: 'R', sampleSize: 500, accept: 0, reject: 1 });
    // the 1999 series has 6/7 and 8/9: K at 6.5 and 10
    expect(singleSamplingPlan({ lotSize: 1000, aql: 6.5, inspection: 'reduced' })).toMatchObject({ codeLetter: 'J', sampleSize: 32, accept: 6, reject: 7 });
    // reduced inspection is never the normal plan where the lot has a smaller reduced sample
    expect(singleSamplingPlan({ lotSize: 1000, aql: 0.25, inspection: 'reduced' }).sampleSize).toBeLessThan(singleSamplingPlan({ lotSize: 1000, aql: 0.25 }).sampleSize);
  });
  it('tightened and reduced plans are stricter / smaller', () => {
    const n = singleSamplingPlan({ lotSize: 1200, aql: 2.5 });
    const t = singleSamplingPlan({ lotSize: 1200, aql: 2.5, inspection: 'tightened' });
    const r = singleSamplingPlan({ lotSize: 1200, aql: 2.5, inspection: 'reduced' });
    expect(n).toMatchObject({ sampleSize: 80, accept: 5 });
    expect(t).toMatchObject({ sampleSize: 80, accept: 3, reject: 4 });
    expect(r.sampleSize).toBe(32);
    expect(r.accept).toBeLessThanOrEqual(n.accept);
  });
  it('prints {codeLetter, sampleSize, accept, reject} with --json', () => {
    expect(JSON.parse(samplingPlanCommand({ lotSize: 1200, aql: 2.5, json: true }))).toEqual({ codeLetter: 'J', sampleSize: 80, accept: 5, reject: 6 });
    expect(JSON.parse(samplingPlanCommand({ lotSize: 5000, aql: 0.65, level: 'I', json: true }))).toEqual({ codeLetter: 'J', sampleSize: 80, accept: 1, reject: 2 });
    expect(() => samplingPlanCommand({ lotSize: 100, aql: 0.3 })).toThrow(/AQL/);
    expect(() => samplingPlanCommand({ lotSize: 100, aql: 1, level: 'IV' })).toThrow(/level/);
  });
});
