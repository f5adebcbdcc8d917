import type { DispenserReading, TankReading } from '../../ingest/readings.js';
import { K_FACTOR, type Station, type Tank } from '../fleet.js';
import { FUEL_HOURLY } from '../profiles.js';
import { round1, round2, type Emit, type Registers, type SiteSim } from '../registers.js';
import type { Rng } from '../rng.js';
import { DAY_MS, HOUR_MS, localDay, localHour, yearPhase } from '../time.js';

/** fraction, 1σ repeatability of a dispenser: JJG 443-2023 requires ≤ 0.10 % */
const DISPENSER_NOISE = 0.0003;
/** a delivery is ordered when the tank falls below this share of capacity, and fills it to FILL_TO */
const REORDER_AT = 0.3;
const FILL_TO = 0.9;
/** the pump cannot draw the last few percent (suction above the tank floor) */
const UNPUMPABLE = 0.03;
/** L, median transaction volumes: cars for gasoline, vans and trucks for diesel */
const MEDIAN_TX_L = { gasoline: 30, diesel: 60 } as const;
/** °C, reference temperature of fuel volume (ISO 91) */
const REF_C = 15;
const ascending = (a: number, b: number): number => a - b;

interface TankState {
  /** L at 15 °C in the tank (true) */
  v15: number;
  /** L at observed temperature delivered since the last gauge reading */
  pendingDeliveryL: number;
  /** mm, last reported level (a stuck gauge repeats it) */
  lastLevelMm: number;
  /** L/ms, mean draw of the tank's nozzles (sizes the leak of a tank tamper) */
  meanDrawLPerMs: number;
}

/**
 * A fuel station: nozzles draw from tanks; each nozzle's reading is one transaction.
 * Volumes are measured at fuel temperature (no temperature compensation at Chinese retail
 * dispensers); the tank holds a 15 °C volume that expands by β per °C. Tank gauges read the
 * level with 1–2 mm noise and report the strapping-table volume.
 *
 * Pulses come from the meter's mechanism, the indicated volume from the calculator: a worn or
 * drifting meter changes both together (pulses/volumeL stays K), a tamper that rescales the
 * calculator's pulse equivalent changes the indicated volume only, so pulses/volumeL moves away
 * from K (DOMAIN.md §6).
 */
export class StationSim implements SiteSim {
  nextMs: number;
  readonly stepMs: number;
  readonly #station: Station;
  readonly #rng: Rng;
  readonly #regs: Registers;
  readonly #tanks: TankState[];
  readonly #times: number[] = [];
  /** per nozzle (station order): tamper state seen on the last transaction, for param_change events */
  readonly #tamperSeen: Uint8Array;

  constructor(station: Station, rng: Rng, regs: Registers, startMs: number) {
    this.#station = station;
    this.#rng = rng;
    this.#regs = regs;
    this.stepMs = station.gaugeIntervalMs;
    this.nextMs = startMs + this.stepMs;
    this.#tanks = station.tanks.map((t) => {
      const v15 = t.geometry.capacityL * rng.uniform(0.4, 0.9);
      return {
        v15,
        pendingDeliveryL: 0,
        lastLevelMm: t.geometry.levelAt(v15),
        meanDrawLPerMs: (station.txPerNozzlePerDay * t.nozzles.length * MEDIAN_TX_L[t.product]) / DAY_MS,
      };
    });
    this.#tamperSeen = new Uint8Array(station.tanks.reduce((n, t) => n + t.nozzles.length, 0));
  }

  /** °C of fuel in the ground at time t: seasonal swing lagging the air, a small daily cycle */
  #temperature(t: number): number {
    const phase = yearPhase(localDay(t));
    const hourOfDay = ((t + 8 * HOUR_MS) % DAY_MS) / HOUR_MS;
    return this.#station.groundC + 5 * Math.cos(2 * Math.PI * (phase - 0.6)) + 0.4 * Math.sin((2 * Math.PI * (hourOfDay - 9)) / 24);
  }

  step(emit: Emit): number {
    const t1 = this.nextMs;
    const stepMs = this.stepMs;
    this.nextMs = t1 + stepMs;
    const t0 = t1 - stepMs;
    const station = this.#station;
    const rng = this.#rng;
    const regs = this.#regs;
    const hourly = FUEL_HOURLY[localHour(t0 + stepMs / 2)] as number;
    const lambda = ((station.txPerNozzlePerDay * stepMs) / DAY_MS) * hourly;
    let count = 0;
    let nozzleOrdinal = 0;
    for (let ti = 0; ti < station.tanks.length; ti++) {
      const tank = station.tanks[ti] as Tank;
      const ts = this.#tanks[ti] as TankState;
      const cap = tank.geometry.capacityL;
      for (const d of tank.nozzles) {
        const ordinal = nozzleOrdinal++;
        const n = rng.poisson(lambda);
        if (n === 0) continue;
        const times = this.#times;
        times.length = 0;
        for (let j = 0; j < n; j++) times.push(t0 + Math.floor(rng.next() * stepMs) + 1);
        times.sort(ascending);
        const em = d.error;
        const k = d.index;
        for (let j = 0; j < n; j++) {
          const tx = times[j] as number;
          const fuelC = this.#temperature(tx) + 0.1 * rng.normal();
          const expansion = 1 + tank.beta * (fuelC - REF_C);
          const vol = Math.min(MEDIAN_TX_L[tank.product] * Math.exp(0.45 * rng.normal()), 400);
          // not enough fuel above the suction: the customer goes elsewhere
          if (ts.v15 * expansion - vol < UNPUMPABLE * cap) continue;
          const tamperOn = em.tamperOn(tx);
          const e = em.errorAt(tx);
          const noise = DISPENSER_NOISE * em.noiseAt(tx) * rng.normal();
          const mechanical = e - (tamperOn ? em.tamperSize : 0);
          const volumeL = round2(vol * (1 + e + noise));
          if (volumeL <= 0) continue;
          const pulses = Math.round(vol * (1 + mechanical + noise) * K_FACTOR);
          ts.v15 -= vol / expansion;
          regs.truth[k] = (regs.truth[k] as number) + vol;
          // stuck: the electronic totaliser stops while transactions go on
          if (!em.stuckAt(tx)) regs.indicated[k] = (regs.indicated[k] as number) + volumeL;
          const seq = (regs.seq[k] = (regs.seq[k] as number) + 1);
          const reading: DispenserReading = {
            ts: tx + em.skewAt(tx),
            seq,
            nozzle: d.record.params.nozzle as number,
            volumeL,
            totalizerL: round2(regs.indicated[k] as number),
            pulses,
            temperatureC: round1(fuelC),
          };
          const seen = this.#tamperSeen[ordinal] === 1;
          if (tamperOn !== seen) {
            this.#tamperSeen[ordinal] = tamperOn ? 1 : 0;
            reading.events = tamperOn && tx - em.tamperStartMs < DAY_MS ? ['seal_open', 'param_change'] : ['param_change'];
          }
          emit(d, reading, tx);
          count++;
        }
      }

      const g = tank.device;
      const gem = g.error;
      // tank tamper: an unrecorded leak or theft, a share of the tank's mean throughput
      if (gem.tamperOn(t1)) ts.v15 = Math.max(0, ts.v15 - gem.tamperSize * ts.meanDrawLPerMs * stepMs);
      const tankC = this.#temperature(t1);
      const expansion = 1 + tank.beta * (tankC - REF_C);
      if (ts.v15 < REORDER_AT * cap) {
        const delivered15 = Math.round((FILL_TO * cap - ts.v15) / 100) * 100;
        ts.v15 += delivered15;
        ts.pendingDeliveryL += delivered15 * expansion;
        regs.truth[g.index] = (regs.truth[g.index] as number) + delivered15 * expansion;
      }
      const trueLevel = tank.geometry.levelAt(ts.v15 * expansion);
      const level = gem.stuckAt(t1)
        ? ts.lastLevelMm
        : Math.min(tank.geometry.diameterMm, Math.max(0, trueLevel * (1 + gem.errorAt(t1)) + tank.levelSigmaMm * gem.noiseAt(t1) * rng.normal()));
      ts.lastLevelMm = level;
      const seq = (regs.seq[g.index] = (regs.seq[g.index] as number) + 1);
      const reading: TankReading = {
        ts: t1 + gem.skewAt(t1),
        seq,
        levelMm: round1(level),
        volumeL: round1(tank.geometry.volumeAt(level)),
        temperatureC: round2(tankC + 0.02 * rng.normal()),
      };
      if (ts.pendingDeliveryL > 0) {
        reading.deliveryL = round1(ts.pendingDeliveryL);
        ts.pendingDeliveryL = 0;
      }
      emit(g, reading, t1);
      count++;
    }
    return count;
  }
}
