import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runEvaluation, scoreEvaluation, siteCosts, type EvalOptions, type EvalOutcome, type EvalResult } from './evaluate.js';
import type { ScenarioInput } from './scenario.js';

export interface ParallelEvalOptions {
  /** worker threads; default: the machine's available parallelism */
  workers?: number;
  nowMs?: number;
  onProgress?: (fraction: number) => void;
  area?: EvalOptions['area'];
}

/**
 * Splits the sites into `count` shards of about equal cost: longest first, each to the lightest
 * shard (LPT scheduling; within 4/3 of the best split).
 */
export function shardSites(costs: readonly { site: string; cost: number }[], count: number): string[][] {
  const shards = Array.from({ length: count }, () => ({ sites: [] as string[], load: 0 }));
  for (const c of [...costs].sort((a, b) => b.cost - a.cost || a.site.localeCompare(b.site))) {
    let best = shards[0]!;
    for (const s of shards) if (s.load < best.load) best = s;
    best.sites.push(c.site);
    best.load += c.cost;
  }
  return shards.map((s) => s.sites).filter((s) => s.length > 0);
}

const WORKER = new URL('./eval-worker.js', import.meta.url);

/**
 * `driftwatch eval` over worker threads. Sites are independent (each has its own random stream
 * in the simulator and its own estimator in the analytics), so shards of sites evaluated apart
 * and scored together give the same result as one process. Falls back to one process where the
 * worker script is not compiled (running from TypeScript sources).
 */
export async function runEvaluationParallel(scenario: ScenarioInput, opts: ParallelEvalOptions = {}): Promise<EvalResult & { workers: number }> {
  const t0 = process.hrtime.bigint();
  const nowMs = opts.nowMs ?? Date.now();
  const workers = Math.max(1, Math.floor(opts.workers ?? availableParallelism()));
  if (workers === 1 || !existsSync(fileURLToPath(WORKER))) {
    return { ...runEvaluation(scenario, { nowMs, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.area ? { area: opts.area } : {}) }), workers: 1 };
  }
  const shards = shardSites(siteCosts(scenario, nowMs), workers);
  const progress = shards.map(() => 0);
  const running: Worker[] = [];
  try {
    const outcomes = await Promise.all(
      shards.map(
        (sites, i) =>
          new Promise<EvalOutcome>((resolve, reject) => {
            const w = new Worker(WORKER, { workerData: { scenario, nowMs, sites, area: opts.area } });
            running.push(w);
            let done = false;
            w.on('message', (m: { progress?: number; outcome?: EvalOutcome }) => {
              if (m.progress !== undefined) {
                progress[i] = m.progress;
                opts.onProgress?.(Math.min(...progress));
              }
              if (m.outcome) {
                done = true;
                resolve(m.outcome);
              }
            });
            w.once('error', reject);
            // an exit without an outcome, whatever its code, is a failure: never wait for it
            w.once('exit', (code) => {
              if (!done) reject(new Error(`eval worker ${i} exited (code ${code}) without a result`));
            });
          }),
      ),
    );
    return { ...scoreEvaluation(scenario, nowMs, outcomes, t0), workers: shards.length };
  } finally {
    // on the first failure the other shards are of no use: stop them rather than wait
    await Promise.all(running.map((w) => w.terminate()));
  }
}
