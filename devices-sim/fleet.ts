import type { Kind, Region } from '../ingest/readings.js';
import { REGIONS } from '../ingest/readings.js';
import type { DeviceInput } from '../registry/schema.js';
import { SimErrors } from './errors.js';
import { ErrorModel, drawFault, nominalMpe } from './faults.js';
import { HOURLY, MEDIAN_W, TYPE_SHARE } from './profiles.js';
import { Rng } from './rng.js';
import { Scenario, type FaultKind, type ScenarioInput } from './scenario.js';
import { TankGeometry } from './tank-geometry.js';
import { DAY_MS, YEAR_MS, localMidnight } from './time.js';

/** A registry DeviceInput with its defaulted fields filled in. */
export type DeviceRecord = Omit<DeviceInput, 'role' | 'params'> & { role: string; params: Record<string, number> };

/** One simulated instrument. */
export interface SimDevice {
  /** position in Fleet.devices */
  readonly index: number;
  readonly id: string;
  readonly kind: Kind;
  readonly site: string;
  /** the registry record, every field filled */
  readonly record: DeviceRecord;
  /** ground truth: base error and faults */
  readonly error: ErrorModel;
  /** register at the fleet's start: Wh for meters, L for dispensers, 0 otherwise */
  readonly initialRegister: number;
}

/** A transformer area: a head (reference) meter and its customers. */
export interface Area {
  readonly site: string;
  readonly region: Region;
  readonly head: SimDevice;
  readonly customers: readonly SimDevice[];
  /** per customer: index into LOAD_TYPES */
  readonly loadType: Uint8Array;
  /** W, per customer mean demand */
  readonly scaleW: Float64Array;
  /** fraction: total line loss relative to customer consumption, as drawn from lossPct */
  readonly lossFraction: number;
  /** W, no-load (transformer iron) loss */
  readonly fixedLossW: number;
  /** 1/W: variable loss = k × P² (copper loss ∝ current²) */
  readonly varLossPerW: number;
}

export type Product = 'gasoline' | 'diesel';

export interface Tank {
  readonly device: SimDevice;
  readonly product: Product;
  /** 1/°C, volumetric thermal expansion: 0.0012 gasoline, 0.0008 diesel (DOMAIN.md §3, UNCONFIRMED) */
  readonly beta: number;
  readonly geometry: TankGeometry;
  readonly nozzles: readonly SimDevice[];
  /** mm, 1σ level noise of the gauge */
  readonly levelSigmaMm: number;
}

export interface Station {
  readonly site: string;
  readonly region: Region;
  readonly tanks: readonly Tank[];
  readonly txPerNozzlePerDay: number;
  /** ms */
  readonly gaugeIntervalMs: number;
  /** °C, mean ground temperature at tank depth */
  readonly groundC: number;
}

export interface Market {
  readonly site: string;
  readonly region: Region;
  readonly scales: readonly SimDevice[];
  readonly checksPerDay: number;
  /** kg, per scale: zero drift per hour since the morning zeroing */
  readonly zeroDriftKgPerH: Float64Array;
  /** degrees, per scale: how far from level it stands */
  readonly tiltDeg: Float64Array;
}

export interface Fleet {
  readonly scenario: Scenario;
  readonly seed: number;
  /** ms, start of simulated time */
  readonly startMs: number;
  /** ms, start + days */
  readonly endMs: number;
  /** ms, meter reading interval */
  readonly meterIntervalMs: number;
  readonly devices: readonly SimDevice[];
  readonly byId: ReadonlyMap<string, SimDevice>;
  readonly areas: readonly Area[];
  readonly stations: readonly Station[];
  readonly markets: readonly Market[];
}

/** L, per station tank; GB 50156-2021 allows ≤ 50 m³ per tank at filling stations */
const TANK_CAPACITY_L = 30_000;
/** mm */
const TANK_DIAMETER_MM = 2_500;
/** pulses per litre of the dispensers' pulse transmitters */
export const K_FACTOR = 100;
/** e in kg and Max in kg of the simulated class III counter scales */
export const SCALE_E_KG = 0.01;
/** kg, 1σ of a sound scale's indication noise before rounding to e: a fifth of a scale interval (a noise fault multiplies it) */
export const SCALE_NOISE_KG = 0.2 * SCALE_E_KG;
export const SCALE_MAX_KG = 30;
const SERVICE_YEARS = 8;
/** healthy devices' base errors are drawn from N(0, (this × the nominal MPE)²) */
export const BASE_ERROR_SPREAD = 0.15;

const METER_MODELS = ['DDZY-102', 'DDZY-285C', 'DDZY-719'] as const;
const POLY_METER_MODELS = ['DTZY-341', 'DTZY-1296'] as const;
const HEAD_METER_MODELS = ['DTZY-1296-Z', 'DTSD-341-CT'] as const;
const DISPENSER_MODELS = ['CS46-2', 'Tatsuno-SunnyII', 'Tokheim-Q510'] as const;
const GAUGE_MODELS = ['ATG-VR350', 'ATG-OPW-SS3'] as const;
const SCALE_MODELS = ['ACS-30-JC', 'TCS-30-YZ', 'ACS-30-DH'] as const;

const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)] as T;

/** ms, the scenario's start: explicit, or `days` before `nowMs` at local midnight */
export function resolveStart(s: Scenario, nowMs: number): number {
  if (typeof s.start === 'number') return s.start;
  if (typeof s.start === 'string') return Date.parse(s.start);
  return localMidnight(nowMs - s.days * DAY_MS);
}

/**
 * Builds a fleet from a scenario: devices with registry records, site physics parameters and
 * ground-truth faults. Pure: the same scenario and `nowMs` give the same fleet.
 * Throws SIM_SCENARIO_INVALID or SIM_FAULT_TARGETS_EXHAUSTED.
 */
export function buildFleet(input: ScenarioInput | Scenario, nowMs: number): Fleet {
  const parsed = Scenario.safeParse(input);
  if (!parsed.success) throw SimErrors.make('SIM_SCENARIO_INVALID', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const s = parsed.data;
  const startMs = resolveStart(s, nowMs);
  const regions = s.regions ?? [...REGIONS];
  const rng = new Rng(s.seed, 0);
  const devices: SimDevice[] = [];

  const device = (id: string, kind: Kind, site: string, region: Region, role: string, model: string, accuracyClass: string, params: Record<string, number>, ageMs: number, initialRegister = 0): SimDevice => {
    const index = devices.length;
    const base = rng.normal() * BASE_ERROR_SPREAD * nominalMpe(kind, accuracyClass);
    const installDate = new Date(startMs - ageMs).toISOString().slice(0, 10);
    const d: SimDevice = {
      index,
      id,
      kind,
      site,
      record: { id, kind, model, accuracyClass, region, site, role, installDate, params },
      error: new ErrorModel(kind, base, (s.seed * 7919 + index) | 0),
      initialRegister,
    };
    devices.push(d);
    return d;
  };
  const age = (): number => rng.next() * SERVICE_YEARS * YEAR_MS;

  const areas: Area[] = [];
  for (let a = 0; a < s.areas.count; a++) {
    const region = regions[a % regions.length] as Region;
    const site = `${region}-A${pad(a + 1, 3)}`;
    const n = Math.round(rng.range(s.areas.metersPerArea));
    const loadType = new Uint8Array(n);
    const scaleW = new Float64Array(n);
    const customers: SimDevice[] = [];
    const head = device(`${site}-M000`, 'meter', site, region, 'head', pick(rng, HEAD_METER_MODELS), '0.5S', { phases: 3 }, age(), Math.round(rng.uniform(1e6, 5e8)));
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      const type = u < (TYPE_SHARE[0] as number) ? 0 : u < (TYPE_SHARE[0] as number) + (TYPE_SHARE[1] as number) ? 1 : 2;
      loadType[i] = type;
      // lognormal spread of household and business sizes
      scaleW[i] = (MEDIAN_W[type] as number) * Math.exp(0.5 * rng.normal());
      const ageMs = age();
      const recent = ageMs < 4 * YEAR_MS;
      const cls = type === 2 ? (recent ? 'B' : '1') : recent ? 'B' : '2';
      const model = type === 2 ? pick(rng, POLY_METER_MODELS) : pick(rng, METER_MODELS);
      // register at start: the energy used since installation
      const initial = Math.round((scaleW[i] as number) * (ageMs / 3_600_000));
      customers.push(device(`${site}-M${pad(i + 1, 3)}`, 'meter', site, region, 'customer', model, cls, { phases: type === 2 ? 3 : 1 }, ageMs, initial));
    }
    // Losses: calibrate fixed + k·P² so that over a typical weekday they total lossFraction of consumption.
    const lossFraction = rng.range(s.areas.lossPct) / 100;
    let mean = 0;
    let meanSq = 0;
    for (let h = 0; h < 24; h++) {
      let p = 0;
      for (let i = 0; i < n; i++) p += (scaleW[i] as number) * ((HOURLY[loadType[i] as number] as Float64Array)[h] as number);
      mean += p / 24;
      meanSq += (p * p) / 24;
    }
    // a distribution transformer's no-load loss is roughly 30 % of its total loss at typical load
    const fixedLossW = 0.3 * lossFraction * mean;
    const varLossPerW = meanSq > 0 ? (0.7 * lossFraction * mean) / meanSq : 0;
    areas.push({ site, region, head, customers, loadType, scaleW, lossFraction, fixedLossW, varLossPerW });
  }

  const stations: Station[] = [];
  const gaugeIntervalMs = s.stations.gaugeIntervalMin * 60_000;
  for (let st = 0; st < s.stations.count; st++) {
    const region = regions[st % regions.length] as Region;
    const site = `${region}-S${pad(st + 1, 3)}`;
    const tanks: Tank[] = [];
    let nozzleNo = 0;
    const dispenserModel = pick(rng, DISPENSER_MODELS);
    for (let t = 0; t < s.stations.tanksPerStation; t++) {
      const product: Product = t % 2 === 0 ? 'gasoline' : 'diesel';
      const beta = product === 'gasoline' ? 0.0012 : 0.0008;
      const geometry = new TankGeometry(TANK_CAPACITY_L, TANK_DIAMETER_MM);
      const gauge = device(`${site}-T${t + 1}`, 'tank', site, region, 'gauge', pick(rng, GAUGE_MODELS), 'R85', {
        tank: t + 1,
        capacityL: TANK_CAPACITY_L,
        diameterMm: TANK_DIAMETER_MM,
        product: product === 'gasoline' ? 0 : 1,
        thermalExpansionPerC: beta,
      }, age());
      const nozzles: SimDevice[] = [];
      for (let k = 0; k < s.stations.nozzlesPerTank; k++) {
        nozzleNo++;
        const ageMs = age();
        const initial = Math.round(ageMs / DAY_MS * s.stations.txPerNozzlePerDay * 35);
        nozzles.push(device(`${site}-N${nozzleNo}`, 'dispenser', site, region, 'nozzle', dispenserModel, '0.5', { nozzle: nozzleNo, tank: t + 1, kFactor: K_FACTOR }, ageMs, initial));
      }
      tanks.push({ device: gauge, product, beta, geometry, nozzles, levelSigmaMm: rng.uniform(0.5, 1) });
    }
    stations.push({ site, region, tanks, txPerNozzlePerDay: s.stations.txPerNozzlePerDay, gaugeIntervalMs, groundC: rng.uniform(15, 19) });
  }

  const markets: Market[] = [];
  for (let m = 0; m < s.markets.count; m++) {
    const region = regions[m % regions.length] as Region;
    const site = `${region}-M${pad(m + 1, 3)}`;
    const scales: SimDevice[] = [];
    const zeroDriftKgPerH = new Float64Array(s.markets.scalesPerMarket);
    const tiltDeg = new Float64Array(s.markets.scalesPerMarket);
    for (let k = 0; k < s.markets.scalesPerMarket; k++) {
      scales.push(device(`${site}-S${pad(k + 1, 2)}`, 'scale', site, region, 'trade', pick(rng, SCALE_MODELS), 'III', { maxKg: SCALE_MAX_KG, eKg: SCALE_E_KG }, age()));
      // warm-up zero drift: a few tenths of e over a market day
      zeroDriftKgPerH[k] = rng.normal() * 0.03 * SCALE_E_KG;
      tiltDeg[k] = rng.uniform(0, 0.4);
    }
    markets.push({ site, region, scales, checksPerDay: s.markets.checksPerDay, zeroDriftKgPerH, tiltDeg });
  }

  assignFaults(s, startMs, areas, stations, markets);
  return {
    scenario: s,
    seed: s.seed,
    startMs,
    endMs: startMs + s.days * DAY_MS,
    meterIntervalMs: s.areas.intervalMin * 60_000,
    devices,
    byId: new Map(devices.map((d) => [d.id, d])),
    areas,
    stations,
    markets,
  };
}

function assignFaults(s: Scenario, startMs: number, areas: readonly Area[], stations: readonly Station[], markets: readonly Market[]): void {
  const rng = new Rng(s.seed, 1);
  const pools: Record<FaultKind, SimDevice[]> = {
    // the head meter is the area's reference: faults go to customers
    meter: areas.flatMap((a) => a.customers),
    dispenser: stations.flatMap((st) => st.tanks.flatMap((t) => t.nozzles)),
    tank: stations.flatMap((st) => st.tanks.map((t) => t.device)),
    scale: markets.flatMap((m) => m.scales),
  };
  for (const spec of s.faults) {
    const candidates = pools[spec.kind].filter((d) => !d.error.has(spec.type));
    if (spec.count > candidates.length) {
      throw SimErrors.make('SIM_FAULT_TARGETS_EXHAUSTED', { kind: spec.kind, type: spec.type, count: spec.count, available: candidates.length });
    }
    // partial Fisher–Yates: the first `count` of a seeded shuffle
    for (let i = 0; i < spec.count; i++) {
      const j = i + rng.int(candidates.length - i);
      const chosen = candidates[j] as SimDevice;
      candidates[j] = candidates[i] as SimDevice;
      candidates[i] = chosen;
      chosen.error.add(drawFault(rng, spec, startMs));
    }
  }
}
