import { parentPort, workerData } from 'node:worker_threads';
import { evaluateSites, type EvalOptions } from './evaluate.js';
import type { ScenarioInput } from './scenario.js';

/** One shard of `driftwatch eval` in a worker thread: its sites through the simulator and the analytics. */
const { scenario, nowMs, sites, area } = workerData as { scenario: ScenarioInput; nowMs: number; sites: string[]; area?: EvalOptions['area'] };
const port = parentPort;
if (!port) throw new Error('eval-worker runs as a worker thread');
const outcome = evaluateSites(scenario, { nowMs, sites, ...(area ? { area } : {}), onProgress: (f) => port.postMessage({ progress: f }) });
port.postMessage({ outcome });
