import { StationErrors } from './errors.js';

export interface StationOptions {
  /** ms, a gauge reading is reconciled once the station's newest gauge time is this far past it */
  lagMs: number;
  /**
   * ms, longest a tank waits for a nozzle that looks offline (silent while its peers are busy)
   * before reconciling without it; the simulator's outages last 1–5 days
   */
  maxHoldMs: number;
  /** expected number of missing transactions above which a silent nozzle counts as offline */
  silentExpected: number;
  /** ms, after a delivery the level settles (foam, temperature layering) before a new cycle opens */
  settleMs: number;
  /** L at 15 °C, a level rise larger than this without `deliveryL` is treated as a delivery */
  jumpL: number;
  /** innovations beyond this many standard deviations end the cycle (level discontinuity) */
  outlierSd: number;
  /** 1/°C, thermal expansion when the gauge's registry record has no thermalExpansionPerC */
  defaultBeta: number;
  /** prior standard deviation of θ = 1/(1+e) (Tikhonov term of the regression) */
  priorSd: number;
  /** process-noise variance of θ per hour: how fast a nozzle's error may wander */
  qTheta: number;
  /** decision limit of the per-nozzle CUSUM over cycles' standardised jumps that re-opens a nozzle (a step) */
  stepH: number;
  /** prior standard deviation of the gauge's relative level error (fraction) */
  gaugePriorSd: number;
  /** prior standard deviation of an unrecorded tank loss, L/h */
  lossPriorLph: number;
  /** process-noise variance of the loss rate, (L/h)² per hour: small, a loss term that wanders soaks up the nozzles' signal (it halved their precision at 0.01) */
  qLossLph2: number;
  /** L/h, an unrecorded loss above this (and 3 sd) is a `tank_loss` sign: US SIR detects 0.2 gal/h ≈ 0.76 L/h */
  lossSignLph: number;
  /** ms, local-time offset of the station's day (China Standard Time: 8 h) */
  dayOffsetMs: number;
  /** error samples are emitted only when their sd is below this multiple of the MPE */
  maxSdRatio: number;
  /** transactions that fix a nozzle's nominal K-factor (median) */
  kLearn: number;
  /** fraction, K-factor deviation that counts as a change: well above quantisation (1 pulse in a few thousand) */
  kTolerance: number;
  /** consecutive deviating transactions before a K change is signed */
  kSustain: number;
  /** L, smallest transaction used for K checks (quantisation grows below) */
  kMinVolumeL: number;
  /** L, allowed |Δtotaliser − volume| per transaction: two roundings to 0.01 L */
  totalizerTolL: number;
  /** consecutive totaliser mismatches (or stops) before a sign */
  totalizerSustain: number;
  /** ms, window in which events count as one combination */
  eventWindowMs: number;
  /** ms, how long after a seal, parameter, firmware or authentication event an error change is attributed to it */
  armMs: number;
  /** consecutive days a nozzle must deviate from its peers before a sign */
  peerDays: number;
  /** ms, the same sign for the same device is raised at most once per this span */
  signCooldownMs: number;
}

export const STATION_DEFAULTS: StationOptions = {
  lagMs: 3_600_000,
  maxHoldMs: 6 * 86_400_000,
  silentExpected: 12,
  settleMs: 30 * 60_000,
  jumpL: 150,
  outlierSd: 8,
  defaultBeta: 0.001,
  priorSd: 0.05,
  qTheta: 1e-9,
  stepH: 5,
  gaugePriorSd: 0.002,
  lossPriorLph: 10,
  qLossLph2: 1e-4,
  lossSignLph: 0.76,
  dayOffsetMs: 8 * 3_600_000,
  maxSdRatio: 1,
  kLearn: 15,
  kTolerance: 0.005,
  kSustain: 3,
  kMinVolumeL: 2,
  totalizerTolL: 0.015,
  totalizerSustain: 2,
  eventWindowMs: 86_400_000,
  armMs: 3 * 86_400_000,
  peerDays: 2,
  signCooldownMs: 86_400_000,
};

/** Merges and checks options; throws ANA_STATION_OPTIONS_INVALID. */
export function stationOptions(partial: Partial<StationOptions> = {}): StationOptions {
  const o: StationOptions = { ...STATION_DEFAULTS, ...partial };
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw StationErrors.make('ANA_STATION_OPTIONS_INVALID', `${k} = ${String(v)}`);
  }
  if (o.kLearn < 1 || o.kSustain < 1 || o.totalizerSustain < 1 || o.peerDays < 1) throw StationErrors.make('ANA_STATION_OPTIONS_INVALID', 'counts must be ≥ 1');
  return o;
}
