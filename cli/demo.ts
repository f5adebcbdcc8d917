import { createFleet } from '../devices-sim/index.js';
import { demoScenario } from '../devices-sim/scenario.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../registry/registry.js';

export interface DemoFleetOptions {
  registry: Registry;
  devices: number;
  seed: number;
  brokerUrl: string;
  clock: Clock;
  logger: Logger;
  /** fraction of readings published twice (QoS 1 redelivery, to be deduplicated) */
  duplicateRate?: number;
  /** fraction of readings swapped with their successor */
  outOfOrderRate?: number;
  /** ms: the fleet's start (default the clock's present); the same start and seed give the same fleet and readings */
  fleetStartMs?: number;
}

/**
 * Builds the demo fleet from `fleetStartMs` (by default the clock's present), registers its devices (with
 * fresh secrets each start: the registry keeps only their hashes) and starts publishing through
 * real MQTT clients.
 */
export async function startDemoFleet(opts: DemoFleetOptions) {
  const startMs = opts.fleetStartMs ?? opts.clock.now();
  const now = opts.clock.now();
  const sim = createFleet({
    scenario: { ...demoScenario(opts.devices, opts.seed), days: 3650, start: startMs },
    nowMs: startMs,
    // a fleet started earlier: its readings up to the clock's present were published before
    ...(now > startMs ? { silentUntilMs: now } : {}),
    brokerUrl: opts.brokerUrl,
    clock: opts.clock,
    logger: opts.logger,
    duplicateRate: opts.duplicateRate ?? 0.001,
    outOfOrderRate: opts.outOfOrderRate ?? 0.001,
  });
  opts.registry.upsertDevices(sim.registrations);
  await sim.start();
  opts.logger.info({ devices: sim.fleet.devices.length }, 'demo fleet started');
  return sim;
}
