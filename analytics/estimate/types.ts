import type { Accepted } from '../../ingest/readings.js';
import type { Device } from '../../registry/registry.js';

/**
 * What every site estimator (transformer area, station, market) hands the state layer: one
 * instrument's error at an event time, as a ratio to its in-service MPE, with its standard
 * uncertainty in the same unit. Estimators emit at most about one sample per instrument per
 * day of event time (the change detectors assume roughly independent periods), plus at once
 * when the evidence jumps.
 */
export interface ErrorSample {
  deviceId: string;
  /** ms, event time the estimate refers to */
  ts: number;
  /** error / MPE (signed: + means the instrument indicates more than the truth) */
  ratio: number;
  /** standard uncertainty of ratio */
  sd: number;
  /** fraction: the error itself, for reports */
  error: number;
  /**
   * the estimator is re-learning after a disturbance (a neighbour's step, a reset) and its
   * uncertainty may not yet cover its error: shown, but not counted as evidence for replacement
   */
  provisional?: boolean;
  /**
   * the estimator's own rate of change of ratio, per day, and its standard uncertainty, where its
   * model carries one (the area balance's drift-rate state): the trend is then read from the model,
   * with an uncertainty, instead of from the series of estimates
   */
  ratePerDay?: number;
  rateSd?: number;
  /**
   * where the estimates come from a recursive filter and share most of their data from one period
   * to the next: the period's standardised innovation (what is new in this estimate, signed as the
   * error, N(0, 1) while nothing changes), for the change detectors to run on instead of the
   * estimates; null where the estimator has none yet (its first period, or a re-opened nozzle)
   */
  innovationZ?: number | null;
}

/** A tamper signature (DOMAIN.md §6) seen in one instrument's data. */
export interface TamperSign {
  deviceId: string;
  /** ms, event time */
  ts: number;
  /** stable code, e.g. 'kfactor_change', 'bypass', 'events' */
  code: string;
  zh: string;
  en: string;
}

/**
 * A metrological requirement other than the error limit that the instrument's own data show it
 * no longer meets — repeatability (OIML R 76-1, 3.6.1) — with the figures behind it. Grounds for
 * replacement as an error beyond the MPE is.
 */
export interface Nonconformity {
  deviceId: string;
  /** ms, event time */
  ts: number;
  /** stable code, e.g. 'repeatability' */
  code: string;
  zh: string;
  en: string;
  evidence: Record<string, number>;
}

export interface SiteOutput {
  sample(s: ErrorSample): void;
  tamper(t: TamperSign): void;
  nonconforming(n: Nonconformity): void;
}

/**
 * One site's estimator. `add` receives the site's new readings in arrival order (not event
 * order: late and out-of-order readings happen), with `ts` already corrected for the device's
 * measured clock skew. `flush` processes whatever is complete and emits through `out`.
 * Both are on the hot path: no per-reading allocation beyond what a reading needs.
 */
export interface SiteEstimator {
  add(r: Accepted): void;
  flush(out: SiteOutput): void;
  /** serialisable state for checkpoints (restart safety) */
  snapshot?(): unknown;
}

export type SiteEstimatorFactory = (site: string, devices: readonly Device[]) => SiteEstimator;
