import { buildFleet } from '../devices-sim/fleet.js';
import { createFleetRunner } from '../devices-sim/runner.js';
import { demoScenario } from '../devices-sim/scenario.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../registry/registry.js';
import { newSecret } from '../registry/secrets.js';

export interface DemoFleetOptions {
  registry: Registry;
  devices: number;
  seed: number;
  daysBack: number;
  brokerUrl: string;
  clock: Clock;
  logger: Logger;
  /** fraction of readings published twice (QoS 1 redelivery, to be deduplicated) */
  duplicateRate?: number;
  /** fraction of readings swapped with their successor */
  outOfOrderRate?: number;
}

/**
 * Builds the demo fleet, registers its devices (with fresh secrets each start: the registry
 * keeps only their hashes) and starts publishing through real MQTT clients.
 */
export async function startDemoFleet(opts: DemoFleetOptions) {
  const startMs = opts.clock.now();
  const scenario = { ...demoScenario(opts.devices, opts.seed), days: 3650, start: startMs };
  const fleet = buildFleet(scenario, startMs);
  const secrets = new Map<string, string>();
  for (const d of fleet.devices) secrets.set(d.id, newSecret());
  opts.registry.upsertDevices(fleet.devices.map((d) => ({ input: d.record, secret: secrets.get(d.id) as string })));
  const runner = createFleetRunner({
    fleet,
    secrets,
    brokerUrl: opts.brokerUrl,
    clock: opts.clock,
    logger: opts.logger,
    duplicateRate: opts.duplicateRate ?? 0.001,
    outOfOrderRate: opts.outOfOrderRate ?? 0.001,
  });
  await runner.start();
  opts.logger.info({ devices: fleet.devices.length }, 'demo fleet started');
  return { size: fleet.devices.length, fleet, stats: () => runner.stats(), close: () => runner.close() };
}
