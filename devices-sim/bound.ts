import type { AnyReading } from '../ingest/readings.js';
import type { Fleet, SimDevice } from './fleet.js';
import type { Truth } from './truth.js';
import { METER_NOISE as HEAD_NOISE } from './sites/area.js';

const DAY = 86_400_000;
/** the step the evaluation scans the truth in for MPE crossings */
export const SCORE_STEP_MS = DAY / 4;
const YEAR = 365 * DAY;
/** one-sided 95 %: the replacement rule's P(|error| > MPE) ≥ 0.95 */
const Z95 = 1.6448536269514722;

interface Target {
  head: string;
  onset: number;
  shape: 'step' | 'drift';
  crossing: number;
  mpe: number;
  /** Fisher information about the fault's size so far */
  info: number;
  lastE: number;
  confirmed: number | null;
}

/**
 * A reference for how soon an area-balance estimator can confirm a customer meter's fault: an
 * oracle that knows every other parameter of the area exactly (the neighbours' errors, the
 * losses) and the fault's onset and shape (step or linear drift), and must only size it. Its
 * information about the size (in θ = 1/(1+e)) grows with the meter's true energy against the
 * head meter's noise; it confirms the fault once the true error, less 1.645 of its standard
 * uncertainty, exceeds the MPE — its expected confirmation time, not a guarantee for every
 * fault (a real estimate can land above the truth by chance and confirm earlier). Real
 * estimators know neither the neighbours nor the onset; the gap in the median says what
 * collinear neighbours and an unknown onset cost.
 */
export function createMeterBound(fleet: Fleet, truth: Truth, mpeOf: (d: SimDevice) => number | null, sites: ((site: string) => boolean) | null) {
  const targets = new Map<string, Target>();
  const heads = new Map<string, { lastE: number; inc: number }>();
  for (const a of fleet.areas) {
    if (sites && !sites(a.site)) continue;
    for (const d of a.customers) {
      const fs = truth.faultsOf(d.id);
      const f = fs[0];
      if (fs.length !== 1 || !f || (f.type !== 'step' && f.type !== 'drift')) continue;
      const mpe = mpeOf(d);
      if (mpe === null) continue;
      const crossing = truth.crossingAt(d.id, mpe, fleet.startMs, fleet.endMs, SCORE_STEP_MS);
      if (crossing === null) continue;
      targets.set(d.id, { head: a.head.id, onset: f.startMs, shape: f.type, crossing, mpe, info: 0, lastE: Number.NaN, confirmed: null });
      heads.set(a.head.id, { lastE: Number.NaN, inc: Number.NaN });
    }
  }
  return {
    /** Folds in one simulated reading (call in the simulator's order: the head before its customers each interval). */
    observe(d: SimDevice, r: AnyReading, trueMs: number): void {
      const e = (r as { energyWh?: number }).energyWh;
      if (e === undefined) return;
      const h = heads.get(d.id);
      if (h) {
        h.inc = e - h.lastE;
        h.lastE = e;
        return;
      }
      const t = targets.get(d.id);
      if (!t) return;
      const inc = e - t.lastE;
      t.lastE = e;
      if (t.confirmed !== null || !(inc > 0) || trueMs <= t.onset) return;
      const y = (heads.get(t.head) as { inc: number }).inc;
      if (!(y > 0)) return;
      const g = t.shape === 'step' ? 1 : (trueMs - t.onset) / YEAR;
      const err = truth.trueErrorAt(d.id, trueMs);
      // the head sees true energy = indicated / (1 + e); the fault's size is learned in θ, and
      // an uncertainty in θ is (1 + e)² as large in e
      t.info += (((inc / (1 + err)) * g) / (HEAD_NOISE * y)) ** 2;
      if (Math.abs(err) - (Z95 * (1 + err) ** 2 * g) / Math.sqrt(t.info) > t.mpe) t.confirmed = trueMs;
    },
    /** per target: its MPE crossing (ms) and the days from it to the oracle's confirmation (null: not within the run) */
    result(): [string, number, number | null][] {
      return [...targets].map(([id, t]) => [id, t.crossing, t.confirmed === null ? null : (t.confirmed - t.crossing) / DAY]);
    },
  };
}
