import { mpeOf, repeatSdOf } from '../devices-sim/evaluate.js';
import { writeTruth } from '../devices-sim/truth.js';
import { createLogger } from '../lib/log.js';
import { AcceleratedClock } from '../lib/clock.js';
import { openRegistry } from './registry.js';
import { startDemoFleet } from './demo.js';

export interface SimOptions {
  devices: number;
  broker: string;
  speed: number;
  daysBack: number;
  seed: number;
  truth?: string;
  dataDir: string;
  duplicates: number;
  outOfOrder: number;
}

/** `driftwatch sim`: a fleet against any broker, its devices registered in DATA_DIR's registry. */
export async function runSim(o: SimOptions): Promise<void> {
  const log = createLogger(process.env['LOG_LEVEL'] ?? 'info', 'driftwatch-sim');
  const reg = openRegistry(o.dataDir);
  const clock = new AcceleratedClock(Date.now() - o.daysBack * 86_400_000, o.speed);
  const fleet = await startDemoFleet({ registry: reg.registry, devices: o.devices, seed: o.seed, brokerUrl: o.broker, clock, logger: log, duplicateRate: o.duplicates, outOfOrderRate: o.outOfOrder });
  const timer = setInterval(() => log.info(fleet.stats(), 'fleet'), 10_000);
  const stop = async () => {
    clearInterval(timer);
    await fleet.close();
    // ground truth up to where the fleet got: faults, daily true errors, MPE crossings
    if (o.truth) await writeTruth(fleet.truth, o.truth, { mpeOf: (d) => mpeOf(d.record) ?? Number.POSITIVE_INFINITY, repeatSdOf, toMs: Math.min(clock.now(), fleet.fleet.endMs) });
    reg.close();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
