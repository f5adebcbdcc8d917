import { silentLogger } from '../lib/log.js';
import { newSecret } from '../registry/secrets.js';
import { buildFleet, type DeviceRecord, type Fleet } from './fleet.js';
import { createFleetRunner, type FleetRunner, type FleetRunnerOptions, type FleetRunnerStats } from './runner.js';
import type { ScenarioInput } from './scenario.js';
import { createTruth, type Truth } from './truth.js';
import { SimErrors } from './errors.js';

export { buildFleet, resolveStart, type DeviceRecord, type Fleet, type SimDevice, type Area, type Station, type Tank, type Market } from './fleet.js';
export { simulate, createFleetState, FleetState, type Emit } from './generator.js';
export { createTruth, writeTruth, type Truth, type TruthReport, type DeviceTruth, type MpeOf, type RepeatSdOf } from './truth.js';
export { createFleetRunner, type FleetRunner, type FleetRunnerOptions, type FleetRunnerStats } from './runner.js';
export { Scenario, demoScenario, type ScenarioInput, FAULT_KINDS, FAULT_TYPES } from './scenario.js';
export { nominalMpe, type FaultInfo } from './faults.js';
export { SimErrors };

export interface FleetOptions extends Omit<FleetRunnerOptions, 'fleet' | 'secrets'> {
  scenario: ScenarioInput;
  /** ms: a scenario without `start` ends here */
  nowMs: number;
  /** device id → secret; fresh random secrets are minted when omitted */
  secrets?: ReadonlyMap<string, string>;
}

export interface SimulatedFleet {
  readonly fleet: Fleet;
  readonly truth: Truth;
  /** the records to register, each with its secret */
  readonly registrations: readonly { input: DeviceRecord; secret: string }[];
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): FleetRunnerStats;
}

/**
 * The fleet simulator as one part: builds the fleet and its ground truth at construction (pure
 * computation, no I/O); start() connects the devices to the broker and publishes as the clock
 * moves; close() is idempotent. Register `registrations` with the registry before start().
 */
export function createFleet(opts: FleetOptions): SimulatedFleet {
  const fleet = buildFleet(opts.scenario, opts.nowMs);
  const secrets = new Map(opts.secrets ?? []);
  for (const d of fleet.devices) if (!secrets.has(d.id)) secrets.set(d.id, newSecret());
  const { scenario: _scenario, nowMs: _nowMs, secrets: _secrets, ...runnerOpts } = opts;
  let runner: FleetRunner | null = null;
  let closed = false;
  return {
    fleet,
    truth: createTruth(fleet),
    registrations: fleet.devices.map((d) => ({ input: d.record, secret: secrets.get(d.id) as string })),
    async start() {
      if (closed) throw SimErrors.make('SIM_RUNNER_CLOSED');
      runner ??= createFleetRunner({ ...runnerOpts, logger: opts.logger ?? silentLogger, fleet, secrets });
      await runner.start();
    },
    async close() {
      closed = true;
      await runner?.close();
    },
    stats() {
      return (
        runner?.stats() ?? {
          devices: fleet.devices.length,
          connected: 0,
          generated: 0,
          published: 0,
          acked: 0,
          ackedReadings: 0,
          buffered: 0,
          reconnects: 0,
          dropped: 0,
          simulatedMs: fleet.startMs,
        }
      );
    },
  };
}
