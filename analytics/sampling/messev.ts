import { hypergeomCdf } from './hypergeometric.js';
import { lqPlan, type LqPlan } from './iso2859-2.js';

/**
 * The §35 MessEV criterion: a lot's verification period is extended if, by recognised statistics,
 * at least `conforming` (95 %) of its instruments comply. Read as a test at confidence γ: the lot
 * passes when a lot with more than 5 % nonconforming, i.e. D0 = floor(0.05·N) + 1, would show as
 * few failures as observed with probability at most 1 − γ (exact hypergeometric).
 */
export interface MessevOptions {
  lotSize: number;
  /** fraction of the lot that must comply (default 0.95) */
  conforming?: number;
  /** γ (default 0.95) */
  confidence?: number;
  /** fix the acceptance number (default 0) */
  acceptance?: number;
}

export const messevDefectives = (N: number, conforming = 0.95) => Math.floor((1 - conforming) * N + 1e-9) + 1;

export function messevPlan(o: MessevOptions): LqPlan {
  const conforming = o.conforming ?? 0.95;
  return lqPlan({ lotSize: o.lotSize, lq: 1 - conforming, beta: 1 - (o.confidence ?? 0.95), defectives: messevDefectives(o.lotSize, conforming), acceptance: o.acceptance ?? 0 });
}

/** The decision on observed results: `pValue` is P(≤ failures | D0); the lot passes if it is ≤ 1 − γ. */
export function messevDecide(o: MessevOptions & { sampleSize: number; failures: number }): { accept: boolean; pValue: number; defectivesAtLimit: number } {
  const D0 = messevDefectives(o.lotSize, o.conforming ?? 0.95);
  const pValue = hypergeomCdf(o.failures, o.lotSize, D0, o.sampleSize);
  return { accept: pValue <= 1 - (o.confidence ?? 0.95), pValue, defectivesAtLimit: D0 };
}
