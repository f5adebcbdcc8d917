import type { MeterReading } from '../../ingest/readings.js';
import type { Area } from '../fleet.js';
import { HOURLY, WEEKEND, seasonal } from '../profiles.js';
import { round1, round3, type Emit, type Registers, type SiteSim } from '../registers.js';
import { hash01, type Rng } from '../rng.js';
import { HOUR_MS, localDay, localHour, weekday, yearPhase } from '../time.js';

/** fraction, 1σ per-interval measurement noise of a meter's energy (electronic meters repeat to a few 0.01 %) */
export const METER_NOISE = 0.0005;
/** fraction, 1σ day-to-day variation of a customer's consumption */
const DAY_SPREAD = 0.15;
/**
 * 1σ of the log of interval-to-interval variation, per load type (residential, commercial,
 * industrial): a household's hourly energy swings with appliances switching (hourly CV around
 * 0.5 in smart-meter data), a shop's less, a small factory's least. This independent variation
 * is what lets an energy balance tell customers apart; smooth synthetic profiles would make
 * them collinear.
 */
const INTERVAL_SPREAD = [0.5, 0.25, 0.15] as const;
/** V, nominal phase voltage (GB/T 156) and the drop along a fully loaded feeder */
const NOMINAL_V = 236;
const FULL_LOAD_DROP_V = 10;
/** a magnetic/cover event is raised on ~5 % of readings in the 2 days after a meter tamper's onset */
const TAMPER_EVENT_MS = 2 * 24 * HOUR_MS;

/**
 * A transformer area: customers draw energy along their load profiles; the head meter registers
 * customer demand plus line losses, L = L_fix + k·P² (DOMAIN.md §3). Indicated energy = true ×
 * (1 + e(t)) per meter.
 */
export class AreaSim implements SiteSim {
  nextMs: number;
  readonly stepMs: number;
  readonly #area: Area;
  readonly #rng: Rng;
  readonly #regs: Registers;
  readonly #power: Float64Array;
  readonly #dayFactor: Float64Array;
  readonly #typeDay = new Float64Array(3);
  readonly #peakW: number;
  #day = Number.NaN;
  #loadRatio = 0.5;

  constructor(area: Area, rng: Rng, regs: Registers, startMs: number, stepMs: number) {
    this.#area = area;
    this.#rng = rng;
    this.#regs = regs;
    this.stepMs = stepMs;
    this.nextMs = startMs + stepMs;
    this.#power = new Float64Array(area.customers.length);
    this.#dayFactor = new Float64Array(area.customers.length);
    let sum = 0;
    for (const w of area.scaleW) sum += w;
    this.#peakW = Math.max(1, 2 * sum);
  }

  step(emit: Emit): number {
    const t1 = this.nextMs;
    const stepMs = this.stepMs;
    this.nextMs = t1 + stepMs;
    const t0 = t1 - stepMs;
    const mid = t0 + stepMs / 2;
    const rng = this.#rng;
    const area = this.#area;
    const day = localDay(mid);
    if (day !== this.#day) this.#newDay(day);
    const hour = localHour(mid);
    const hours = stepMs / HOUR_MS;
    const regs = this.#regs;
    const customers = area.customers;
    const n = customers.length;
    const areaV = NOMINAL_V - FULL_LOAD_DROP_V * this.#loadRatio;

    let sumW = 0;
    for (let i = 0; i < n; i++) {
      const type = area.loadType[i] as number;
      let p =
        (area.scaleW[i] as number) *
        ((HOURLY[type] as Float64Array)[hour] as number) *
        (this.#typeDay[type] as number) *
        (this.#dayFactor[i] as number) *
        Math.exp((INTERVAL_SPREAD[type as 0 | 1 | 2] as number) * rng.normal() - 0.5 * (INTERVAL_SPREAD[type as 0 | 1 | 2] as number) ** 2);
      // standby floor: nothing switches a household fully off
      const floor = 0.03 * (area.scaleW[i] as number);
      if (p < floor) p = floor;
      this.#power[i] = p;
      sumW += p;
    }
    const headInW = sumW + area.fixedLossW + area.varLossPerW * sumW * sumW;
    this.#loadRatio = Math.min(1, headInW / this.#peakW);

    // head meter, three-phase at the transformer's LV side
    {
      const d = area.head;
      const em = d.error;
      const e = em.errorAt(t1) + METER_NOISE * em.noiseAt(t1) * rng.normal();
      const trueWh = headInW * hours;
      const k = d.index;
      regs.truth[k] = (regs.truth[k] as number) + trueWh;
      if (!em.stuckAt(t1)) regs.indicated[k] = (regs.indicated[k] as number) + Math.max(0, trueWh * (1 + e));
      const seq = (regs.seq[k] = (regs.seq[k] as number) + 1);
      const powerW = round1(headInW * (1 + e));
      const reading: MeterReading = { ts: t1 + em.skewAt(t1), seq, energyWh: Math.round(regs.indicated[k] as number), powerW, voltageV: round1(areaV), currentA: round3(powerW / (3 * areaV)) };
      emit(d, reading, t1);
    }

    for (let i = 0; i < n; i++) {
      const d = customers[i]!;
      const em = d.error;
      const p = this.#power[i] as number;
      const e = em.errorAt(t1) + METER_NOISE * em.noiseAt(t1) * rng.normal();
      const trueWh = p * hours;
      const k = d.index;
      regs.truth[k] = (regs.truth[k] as number) + trueWh;
      // stuck: the register stops while the power measurement goes on
      if (!em.stuckAt(t1)) regs.indicated[k] = (regs.indicated[k] as number) + Math.max(0, trueWh * (1 + e));
      const seq = (regs.seq[k] = (regs.seq[k] as number) + 1);
      // customers further down the feeder see a lower voltage
      const v = areaV - (i % 7) * 0.4 * this.#loadRatio;
      const powerW = round1(Math.max(0, p * (1 + e)));
      const phases = area.loadType[i] === 2 ? 3 : 1;
      const reading: MeterReading = { ts: t1 + em.skewAt(t1), seq, energyWh: Math.round(regs.indicated[k] as number), powerW, voltageV: round1(v), currentA: round3(powerW / (phases * v)) };
      const tamperAt = em.tamperStartMs;
      if (t1 >= tamperAt && t1 - tamperAt < TAMPER_EVENT_MS + stepMs) {
        if (t1 - stepMs < tamperAt) reading.events = ['magnetic', 'cover_open'];
        else if (hash01(k, t1 / stepMs) < 0.05) reading.events = ['magnetic'];
      }
      emit(d, reading, t1);
    }
    return n + 1;
  }

  #newDay(day: number): void {
    this.#day = day;
    const phase = yearPhase(day);
    const weekend = weekday(day);
    const isWeekend = weekend === 0 || weekend === 6;
    for (let t = 0; t < 3; t++) this.#typeDay[t] = seasonal(t, phase) * (isWeekend ? (WEEKEND[t] as number) : 1);
    const rng = this.#rng;
    for (let i = 0; i < this.#dayFactor.length; i++) this.#dayFactor[i] = Math.exp(DAY_SPREAD * rng.normal());
  }
}
