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
}

/**
 * Builds the demo fleet from the clock's present (simulated) time, registers its devices (with
 * fresh secrets each start: the registry keeps only their hashes) and starts publishing through
 * real MQTT clients.
 */
export async function startDemoFleet(opts: DemoFleetOptions) {
  const startMs = opts.clock.now();
  const sim = createFleet({
    scenario: { ...demoScenario(opts.devices, opts.seed), days: 3650, start: startMs },
    nowMs: startMs,
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
