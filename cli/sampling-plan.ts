import { LEVELS, SEVERITIES, singleSamplingPlan, type Level, type Severity } from '../analytics/sampling/iso2859-1.js';

export interface SamplingPlanArgs {
  lotSize: number;
  aql: number;
  level?: string;
  inspection?: string;
  json?: boolean;
}

/**
 * `driftwatch sampling-plan`: the ISO 2859-1 single sampling plan for a lot. Returns the text to
 * print: `{codeLetter, sampleSize, accept, reject}` as JSON with --json (plus hundredPercent when
 * the sample reaches the lot size), a line for people otherwise.
 */
export function samplingPlanCommand(a: SamplingPlanArgs): string {
  const level = (a.level ?? 'II') as Level;
  const inspection = (a.inspection ?? 'normal') as Severity;
  if (!LEVELS.includes(level)) throw new Error(`--level must be one of ${LEVELS.join(', ')}`);
  if (!SEVERITIES.includes(inspection)) throw new Error(`--inspection must be one of ${SEVERITIES.join(', ')}`);
  const p = singleSamplingPlan({ lotSize: a.lotSize, aql: a.aql, level, inspection });
  const out = { codeLetter: p.codeLetter, sampleSize: p.sampleSize, accept: p.accept, reject: p.reject, ...(p.hundredPercent ? { hundredPercent: true } : {}) };
  if (a.json) return `${JSON.stringify(out)}\n`;
  return `code letter ${p.codeLetter}${p.planLetter !== p.codeLetter ? ` (plan of ${p.planLetter})` : ''}: inspect ${p.sampleSize}${p.hundredPercent ? ' (100 %)' : ''}, accept with ≤ ${p.accept} nonconforming, reject with ≥ ${p.reject}\n`;
}
