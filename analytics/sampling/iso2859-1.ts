import table from './tables/iso2859-1.json' with { type: 'json' };
import { SamplingErrors } from './errors.js';

/** ISO 2859-1 Table 1 inspection levels: general I/II/III and special S-1…S-4. */
export const LEVELS = ['S-1', 'S-2', 'S-3', 'S-4', 'I', 'II', 'III'] as const;
export type Level = (typeof LEVELS)[number];
export const SEVERITIES = ['normal', 'tightened', 'reduced'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Percent-nonconforming AQLs of the master tables, as the standard prints them. */
export const AQLS: readonly string[] = table.aqls;

interface MasterTable {
  sampleSizes: Record<string, number>;
  rows: Record<string, string[]>;
}
const TABLES: Record<Severity, MasterTable> = { normal: table.normal, tightened: table.tightened, reduced: table.reduced };
const RANGES = table.codeLetters.lotSizes as [number, number | null][];
const LETTER_ROWS = table.codeLetters.levels as Record<Level, string>;

export interface AttributesPlan {
  /** code letter from Table 1 for the lot size and level */
  codeLetter: string;
  /** code letter whose plan applies after following the arrows */
  planLetter: string;
  /** instruments to inspect (capped at the lot size) */
  sampleSize: number;
  /** accept the lot with at most this many nonconforming instruments in the sample */
  accept: number;
  /** reject the lot with at least this many */
  reject: number;
  /** the plan's sample size reached the lot size: inspect every instrument */
  hundredPercent: boolean;
  /** an arrow led off the table and was followed the other way (flagged cell, see the table's edgeCells) */
  edge: boolean;
  aql: string;
  level: Level;
  inspection: Severity;
}

/** ISO 2859-1 Table 1: the sample size code letter of a lot. */
export function codeLetter(lotSize: number, level: Level = 'II'): string {
  if (!Number.isInteger(lotSize) || lotSize < 2) throw SamplingErrors.make('SMP_PLAN_INVALID', `lot size ${lotSize}: at least 2`);
  const row = RANGES.findIndex(([lo, hi]) => lotSize >= lo && (hi === null || lotSize <= hi));
  const letter = LETTER_ROWS[level]?.[row];
  if (letter === undefined) throw SamplingErrors.make('SMP_PLAN_INVALID', `level ${level}`);
  return letter;
}

/** "1" → "1.0", "0.4" → "0.40": the AQL as the table prints it, or null if it is not a table column. */
export function normaliseAql(aql: number | string): string | null {
  const v = Number(aql);
  return AQLS.find((a) => Number(a) === v) ?? null;
}

/**
 * The cell of a master table after following its arrows (ISO 2859-1, 10.2 and the notes to
 * Tables 2-A/2-B/2-C: "use the first sampling plan below/above the arrow"). The plan found
 * supplies both the sample size and Ac/Re.
 */
export function resolveCell(inspection: Severity, letter: string, aql: string): { planLetter: string; n: number; ac: number; re: number; edge: boolean } {
  const t = TABLES[inspection];
  const letters = Object.keys(t.rows);
  const col = AQLS.indexOf(aql);
  let i = letters.indexOf(letter);
  if (col < 0 || i < 0) throw SamplingErrors.make('SMP_PLAN_INVALID', `${inspection} ${letter} AQL ${aql}`);
  const at = (k: number) => t.rows[letters[k] as string]?.[col];
  const first = at(i) as string;
  let step = first === 'v' ? 1 : first === '^' ? -1 : 0;
  let edge = false;
  for (let guard = 0; step !== 0 && guard < 2 * letters.length; guard++) {
    const next = i + step;
    if (next < 0 || next >= letters.length) {
      step = -step; // off the table: the flagged edge rule of the data file
      edge = true;
      continue;
    }
    i = next;
    const c = at(i) as string;
    if (c !== 'v' && c !== '^') step = 0;
  }
  const planLetter = letters[i] as string;
  const m = /^(\d+)\/(\d+)$/.exec(at(i) ?? '');
  if (!m) throw SamplingErrors.make('SMP_PLAN_INVALID', `${inspection} ${letter} AQL ${aql}: no plan`);
  return { planLetter, n: t.sampleSizes[planLetter] as number, ac: Number(m[1]), re: Number(m[2]), edge };
}

/** ISO 2859-1 single sampling plan for a lot (clause 10). */
export function singleSamplingPlan(opts: { lotSize: number; aql: number | string; level?: Level; inspection?: Severity }): AttributesPlan {
  const level = opts.level ?? 'II';
  const inspection = opts.inspection ?? 'normal';
  const aql = normaliseAql(opts.aql);
  if (aql === null) throw SamplingErrors.make('SMP_PLAN_INVALID', `AQL ${opts.aql}: one of ${AQLS.join(', ')}`);
  const letter = codeLetter(opts.lotSize, level);
  const cell = resolveCell(inspection, letter, aql);
  const hundredPercent = cell.n >= opts.lotSize;
  return {
    codeLetter: letter,
    planLetter: cell.planLetter,
    sampleSize: Math.min(cell.n, opts.lotSize),
    accept: cell.ac,
    reject: cell.re,
    hundredPercent,
    edge: cell.edge,
    aql,
    level,
    inspection,
  };
}

/**
 * Clause 9.3.3.2 b): for a plan with Ac ≥ 2, whether the lot would also have been accepted had
 * the AQL been one step tighter — the plan of the same code letter in the next column to the
 * left, arrows followed. Null where there is no tighter column.
 */
export function acceptedOneStepTighter(inspection: Severity, letter: string, aql: string, nonconforming: number): boolean | null {
  const col = AQLS.indexOf(aql);
  if (col <= 0) return null;
  const tighter = resolveCell(inspection, letter, AQLS[col - 1] as string);
  return nonconforming <= tighter.ac;
}
