import type { Severity } from './iso2859-1.js';

/**
 * ISO 2859-1:1999 clause 9 switching rules over successive lots of one product, as a pure
 * state machine: `next(state, lot)` returns the new state; nothing is stored here.
 * - normal → tightened: 2 of 5 or fewer consecutive original lots not accepted (9.3.1);
 * - tightened → normal: 5 consecutive original lots accepted (9.3.2);
 * - normal → reduced: switching score ≥ 30, production steady and the authority approves (9.3.3);
 * - reduced → normal: a lot not accepted, or production irregular (9.3.4);
 * - tightened for 5 not-accepted lots in all: inspection discontinued (9.4).
 * Switching score (9.3.3.2): from 0 at the start of normal inspection; Ac ≥ 2: +3 if the lot would
 * have been accepted at the AQL one step tighter, else 0; Ac 0 or 1: +2 if accepted, else 0.
 */
export interface SwitchingState {
  inspection: Severity | 'discontinued';
  score: number;
  /** accepted (true) / not accepted of the latest lots under the current severity, newest last */
  recent: boolean[];
  /** lots not accepted since tightened inspection began */
  rejectedOnTightened: number;
}

export interface LotOutcome {
  accepted: boolean;
  /** Ac of the plan used */
  accept: number;
  /** for Ac ≥ 2: would the lot have passed at the AQL one step tighter (its Ac, same sample)? */
  acceptedOneStepTighter?: boolean;
  /** production at a steady rate (9.3.3 b, 9.3.4 c) */
  steady?: boolean;
  /** the responsible authority approves reduced inspection (9.3.3 c) */
  reducedApproved?: boolean;
}

export const INITIAL_SWITCHING: SwitchingState = { inspection: 'normal', score: 0, recent: [], rejectedOnTightened: 0 };

/** the state at the start of an inspection severity (score and lot counts start afresh) */
export const fresh = (inspection: SwitchingState['inspection']): SwitchingState => ({ inspection, score: 0, recent: [], rejectedOnTightened: 0 });

export function nextSwitching(s: SwitchingState, lot: LotOutcome): SwitchingState {
  const recent = [...s.recent, lot.accepted].slice(-5);
  switch (s.inspection) {
    case 'normal': {
      if (recent.filter((a) => !a).length >= 2) return fresh('tightened');
      const gain = lot.accept >= 2 ? (lot.acceptedOneStepTighter ? 3 : -1) : lot.accepted ? 2 : -1;
      const score = gain < 0 ? 0 : s.score + gain;
      if (score >= 30 && lot.steady !== false && lot.reducedApproved === true) return fresh('reduced');
      return { ...s, score, recent };
    }
    case 'tightened': {
      const rejected = s.rejectedOnTightened + (lot.accepted ? 0 : 1);
      if (rejected >= 5) return { ...fresh('discontinued'), rejectedOnTightened: rejected };
      if (recent.length >= 5 && recent.every(Boolean)) return fresh('normal');
      return { ...s, recent, rejectedOnTightened: rejected };
    }
    case 'reduced':
      if (!lot.accepted || lot.steady === false) return fresh('normal');
      return { ...s, recent };
    case 'discontinued':
      return s;
  }
}
