import type { Fleet } from './fleet.js';
import { Registers, type Emit, type SiteSim } from './registers.js';
import { Rng } from './rng.js';
import { AreaSim } from './sites/area.js';
import { MarketSim } from './sites/market.js';
import { StationSim } from './sites/station.js';
import { MINUTE_MS } from './time.js';

export type { Emit } from './registers.js';

/** RNG stream offsets per site type: each site draws from its own stream (see rng.ts). */
const AREA_STREAM = 1_000;
const STATION_STREAM = 1_000_000;
const MARKET_STREAM = 2_000_000;

/**
 * A running simulation: where it has got to and every device's registers and seq. Successive
 * `simulate(state, t0, t1)`, `simulate(state, t1, t2)` give exactly the readings of one
 * `simulate(state, t0, t2)` (each site has its own random stream and fixed step grid).
 */
export class FleetState {
  readonly fleet: Fleet;
  readonly registers: Registers;
  readonly #sites: SiteSim[];
  /** ms, rounds of this length keep sites roughly in event-time order */
  readonly #roundMs: number;
  #cursor: number;

  /** `sites` limits the simulation to some sites (each keeps its own stream, so its readings do not change) */
  constructor(fleet: Fleet, sites: (site: string) => boolean = () => true) {
    this.fleet = fleet;
    this.registers = new Registers(fleet.devices);
    const start = fleet.startMs;
    const seed = fleet.seed;
    this.#sites = [
      ...fleet.areas.map((a, i) => (sites(a.site) ? new AreaSim(a, new Rng(seed, AREA_STREAM + i), this.registers, start, fleet.meterIntervalMs) : null)),
      ...fleet.stations.map((s, i) => (sites(s.site) ? new StationSim(s, new Rng(seed, STATION_STREAM + i), this.registers, start) : null)),
      ...fleet.markets.map((m, i) => (sites(m.site) ? new MarketSim(m, new Rng(seed, MARKET_STREAM + i), this.registers, start) : null)),
    ].filter((x): x is AreaSim | StationSim | MarketSim => x !== null);
    this.#roundMs = Math.max(MINUTE_MS, Math.min(...this.#sites.map((s) => s.stepMs), 3_600_000));
    this.#cursor = start;
  }

  /** ms: simulated up to here (readings up to and including this true time are out) */
  get cursorMs(): number {
    return this.#cursor;
  }

  /** indicated register of a device (Wh for meters, L for dispensers) */
  indicated(id: string): number {
    return this.registers.indicated[this.#index(id)] as number;
  }

  /** true quantity since the start: Wh consumed, L dispensed, L delivered into a tank */
  truth(id: string): number {
    return this.registers.truth[this.#index(id)] as number;
  }

  /** last seq a device used (0 before its first reading) */
  seq(id: string): number {
    return this.registers.seq[this.#index(id)] as number;
  }

  #index(id: string): number {
    const d = this.fleet.byId.get(id);
    if (!d) throw new RangeError(`no simulated device ${id}`);
    return d.index;
  }

  /** Advances to `toMs`, emitting every reading of a step that ends at or before it. */
  advance(toMs: number, emit: Emit): number {
    let count = 0;
    let c = this.#cursor;
    const start = this.fleet.startMs;
    const q = this.#roundMs;
    const sites = this.#sites;
    while (c < toMs) {
      const roundEnd = Math.min(start + (Math.floor((c - start) / q) + 1) * q, toMs);
      for (let i = 0; i < sites.length; i++) {
        const site = sites[i] as SiteSim;
        while (site.nextMs <= roundEnd) count += site.step(emit);
      }
      c = roundEnd;
    }
    if (toMs > this.#cursor) this.#cursor = toMs;
    return count;
  }
}

const noop: Emit = () => {};

/** A fresh simulation of a fleet (or of some of its sites), at its start. */
export function createFleetState(fleet: Fleet, sites?: (site: string) => boolean): FleetState {
  return new FleetState(fleet, sites);
}

/**
 * Streams the readings of true time (fromMs, toMs] in approximate event-time order (sites are
 * interleaved in rounds of their shortest step; within a round, site by site).
 *
 * Given a Fleet, starts a fresh simulation; given a FleetState, continues it. Time before
 * `fromMs` that the state has not yet simulated is simulated without emitting (registers must
 * still integrate it); time already simulated is not repeated. Returns the readings emitted.
 */
export function simulate(source: Fleet | FleetState, fromMs: number, toMs: number, emit: Emit): number {
  const state = source instanceof FleetState ? source : new FleetState(source);
  if (fromMs > state.cursorMs) state.advance(fromMs, noop);
  return state.advance(toMs, emit);
}
