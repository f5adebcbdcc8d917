import type { ScaleReading, SCALE_EVENTS } from '../../ingest/readings.js';
import { SCALE_E_KG, SCALE_NOISE_KG, type Market } from '../fleet.js';
import { MARKET_CLOSE_H, MARKET_OPEN_H } from '../profiles.js';
import { round2, type Emit, type Registers, type SiteSim } from '../registers.js';
import type { Rng } from '../rng.js';
import { HOUR_MS, localDay, localHour } from '../time.js';

/** kg, reference masses of the check weights inspectors and stallholders use */
const CHECK_MASSES_KG = [2, 5, 10, 20] as const;
/** kg, 1σ residual zero after the morning zero-setting */
const MORNING_ZERO_KG = 0.2 * SCALE_E_KG;
/** per open hour: chance of a tare, an unstable weighing or a reboot being reported */
const P_TARE = 0.02;
const P_UNSTABLE = 0.01;
const P_REBOOT = 0.0005;
/** 1/kg: indications are rounded to e (OIML R 76-1, 3.1: digital indication in steps of e) */
const PER_E = Math.round(1 / SCALE_E_KG);
const quantise = (kg: number): number => Math.round(kg * PER_E) / PER_E;

type ScaleEvent = (typeof SCALE_EVENTS)[number];

/**
 * A market of trade scales: an hourly status reading (zero, tilt) and, during opening hours,
 * check-weight tests whose indication is ref × (1 + e) + zero offset, rounded to e. The zero is
 * set each morning and drifts as the load cell warms up.
 */
export class MarketSim implements SiteSim {
  nextMs: number;
  readonly stepMs = HOUR_MS;
  readonly #market: Market;
  readonly #rng: Rng;
  readonly #regs: Registers;
  readonly #morningZero: Float64Array;
  /** kg, last indications, which a stuck scale repeats */
  readonly #lastZero: Float64Array;
  readonly #lastCheck: Float64Array;
  readonly #times: number[] = [];
  #day = Number.NaN;

  constructor(market: Market, rng: Rng, regs: Registers, startMs: number) {
    this.#market = market;
    this.#rng = rng;
    this.#regs = regs;
    this.nextMs = startMs + HOUR_MS;
    const n = market.scales.length;
    this.#morningZero = new Float64Array(n);
    this.#lastZero = new Float64Array(n);
    this.#lastCheck = new Float64Array(n);
  }

  step(emit: Emit): number {
    const t1 = this.nextMs;
    this.nextMs = t1 + HOUR_MS;
    const t0 = t1 - HOUR_MS;
    const rng = this.#rng;
    const market = this.#market;
    const regs = this.#regs;
    const day = localDay(t0);
    if (day !== this.#day) {
      this.#day = day;
      for (let k = 0; k < this.#morningZero.length; k++) this.#morningZero[k] = MORNING_ZERO_KG * rng.normal();
    }
    const hour = localHour(t0);
    const open = hour >= MARKET_OPEN_H && hour < MARKET_CLOSE_H;
    const hoursOpen = open ? hour - MARKET_OPEN_H + 0.5 : 0;
    const checkRate = market.checksPerDay / (MARKET_CLOSE_H - MARKET_OPEN_H);
    let count = 0;
    for (let k = 0; k < market.scales.length; k++) {
      const d = market.scales[k]!;
      const em = d.error;
      const i = d.index;
      const zero = (this.#morningZero[k] as number) + (market.zeroDriftKgPerH[k] as number) * hoursOpen;
      const tilt = round2((market.tiltDeg[k] as number) + 0.01 * Math.abs(rng.normal()));
      if (open) {
        const n = rng.poisson(checkRate);
        const times = this.#times;
        times.length = 0;
        for (let j = 0; j < n; j++) times.push(t0 + 1 + Math.floor(rng.next() * (HOUR_MS - 1)));
        times.sort(ascending);
        for (let j = 0; j < n; j++) {
          const tc = times[j] as number;
          const ref = CHECK_MASSES_KG[rng.int(CHECK_MASSES_KG.length)] as number;
          const sigma = SCALE_NOISE_KG * em.noiseAt(tc);
          const stuck = em.stuckAt(tc);
          const zeroKg = stuck ? (this.#lastZero[k] as number) : quantise(zero + sigma * rng.normal());
          const indicated = stuck ? (this.#lastCheck[k] as number) : quantise(ref * (1 + em.errorAt(tc)) + zero + sigma * rng.normal());
          this.#lastZero[k] = zeroKg;
          this.#lastCheck[k] = indicated;
          const seq = (regs.seq[i] = (regs.seq[i] as number) + 1);
          const reading: ScaleReading = { ts: tc + em.skewAt(tc), seq, zeroKg, checkRefKg: ref, checkIndicatedKg: indicated, tiltDeg: tilt };
          emit(d, reading, tc);
          count++;
        }
      }
      const stuck = em.stuckAt(t1);
      const zeroKg = stuck ? (this.#lastZero[k] as number) : quantise(zero + SCALE_NOISE_KG * em.noiseAt(t1) * rng.normal());
      this.#lastZero[k] = zeroKg;
      const seq = (regs.seq[i] = (regs.seq[i] as number) + 1);
      const reading: ScaleReading = { ts: t1 + em.skewAt(t1), seq, zeroKg, tiltDeg: tilt };
      let events: ScaleEvent[] | undefined;
      if (em.tamperStartMs > t0 && em.tamperStartMs <= t1) events = ['param_change', 'mode_change'];
      if (open) {
        const u = rng.next();
        if (u < P_REBOOT) (events ??= []).push('reboot');
        else if (u < P_REBOOT + P_UNSTABLE) (events ??= []).push('unstable');
        else if (u < P_REBOOT + P_UNSTABLE + P_TARE) (events ??= []).push('tare');
      }
      if (events) reading.events = events;
      emit(d, reading, t1);
      count++;
    }
    return count;
  }
}

const ascending = (a: number, b: number): number => a - b;
