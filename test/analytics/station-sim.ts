import { buildFleet, type Fleet, type SimDevice } from '../../devices-sim/fleet.js';
import { simulate } from '../../devices-sim/generator.js';
import { toAccepted } from '../../devices-sim/accepted.js';
import type { ScenarioInput } from '../../devices-sim/scenario.js';
import type { Accepted } from '../../ingest/readings.js';
import type { Device } from '../../registry/registry.js';
import type { ErrorSample, Nonconformity, SiteEstimator, TamperSign } from '../../analytics/estimate/types.js';

/** ms */
export const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A scenario of fuel stations alone (no areas, no markets), from 2025-03-01. */
export function stationScenario(s: Pick<ScenarioInput, 'seed' | 'days' | 'stations' | 'faults'>): ScenarioInput {
  return {
    start: '2025-03-01',
    areas: { count: 0, metersPerArea: [1, 1], intervalMin: 60, lossPct: [3, 5] },
    markets: { count: 0, scalesPerMarket: 1, checksPerDay: 0 },
    ...s,
  };
}

export function deviceOf(d: SimDevice): Device {
  return { ...d.record, status: 'active', createdAt: 0 };
}

/** A reading as ingest would hand it on. */
export const accepted = toAccepted;

export interface Run {
  fleet: Fleet;
  estimators: Map<string, SiteEstimator>;
  samples: ErrorSample[];
  signs: TamperSign[];
  failures: Nonconformity[];
}

/**
 * Streams a simulated fleet's stations into one estimator per station, in arrival order: a device
 * in an outage holds its readings and delivers them when it is back, as a device link backfills.
 * Flushes every simulated hour.
 */
export function runStations(scenario: ScenarioInput, make: (site: string, devices: Device[]) => SiteEstimator, nowMs = Date.UTC(2026, 0, 1)): Run {
  const fleet = buildFleet(scenario, nowMs);
  const devices = fleet.devices.map(deviceOf);
  const estimators = new Map<string, SiteEstimator>();
  for (const st of fleet.stations) estimators.set(st.site, make(st.site, devices));
  const samples: ErrorSample[] = [];
  const signs: TamperSign[] = [];
  const failures: Nonconformity[] = [];
  const out = { sample: (s: ErrorSample) => samples.push(s), tamper: (t: TamperSign) => signs.push(t), nonconforming: (n: Nonconformity) => failures.push(n) };
  const held = new Map<SimDevice, Accepted[]>();
  let nextFlush = fleet.startMs + HOUR;
  const flushAll = () => {
    for (const e of estimators.values()) e.flush(out);
  };
  simulate(fleet, fleet.startMs, fleet.endMs, (d, reading, trueMs) => {
    const est = estimators.get(d.site);
    if (!est) return;
    while (trueMs > nextFlush) {
      flushAll();
      nextFlush += HOUR;
    }
    for (const [dev, buf] of held) {
      if (trueMs >= dev.error.offlineEndMs) {
        for (const a of buf) estimators.get(dev.site)?.add({ ...a, receivedAt: trueMs });
        held.delete(dev);
      }
    }
    const a = accepted(d, reading, trueMs);
    if (d.error.offlineAt(trueMs)) {
      const buf = held.get(d) ?? [];
      buf.push(a);
      held.set(d, buf);
      return;
    }
    est.add(a);
  });
  flushAll();
  return { fleet, estimators, samples, signs, failures };
}
