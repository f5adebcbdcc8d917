#!/usr/bin/env node
/**
 * The driftwatch command. `start` is the composition root of the platform; the other
 * commands are tools for operators (provisioning) and for measuring (sim, bench).
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config.js';

const program = new Command('driftwatch')
  .description('State evaluation, replacement on inaccuracy and sampling verification of smart measuring instruments')
  .showHelpAfterError();

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};
const parseCount = (v: string) => {
  const n = int(v);
  if (n < 1) throw new InvalidArgumentError('must be at least 1');
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
};
const positive = (v: string) => {
  const n = num(v);
  if (!(n > 0)) throw new InvalidArgumentError('must be above 0');
  return n;
};
const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

program
  .command('start')
  .description('run the platform: broker, ingest, store, analytics, API, and the demo fleet (SIM_DEVICES)')
  .action(async () => {
    const { runPlatform } = await import('./start.js');
    await runPlatform(loadConfig());
  });

const devices = program.command('devices').description('provision devices in the registry (DATA_DIR)');
devices
  .command('add')
  .description('add one device; prints its id and secret (shown once)')
  .requiredOption('--id <id>')
  .requiredOption('--kind <kind>', 'meter | dispenser | tank | scale')
  .requiredOption('--model <model>')
  .requiredOption('--class <accuracyClass>', 'accuracy class, e.g. 2, 0.5S, 0.5, III')
  .requiredOption('--region <region>', 'SH | JS | ZJ | AH')
  .requiredOption('--site <site>', 'transformer area, station or market')
  .option('--role <role>', 'head | customer | gauge | nozzle | trade', 'customer')
  .option('--install-date <date>', 'YYYY-MM-DD', new Date().toISOString().slice(0, 10))
  .action(async (o: Record<string, string>) => {
    const { withRegistry } = await import('./registry.js');
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      const { device, secret } = registry.addDevice({
        id: o['id'], kind: o['kind'], model: o['model'], accuracyClass: o['class'], region: o['region'],
        site: o['site'], role: o['role'], installDate: o['installDate'],
      });
      print({ id: device.id, secret });
    });
  });
devices
  .command('import')
  .description('add devices from a CSV file (header: id,kind,model,accuracyClass,region,site,role,installDate); prints a per-row report')
  .argument('<file>')
  .action(async (file: string) => {
    const { withRegistry } = await import('./registry.js');
    const { importDevicesCsv } = await import('../registry/csv-import.js');
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      const report = await importDevicesCsv(registry, readFileSync(file, 'utf8'));
      print(report);
      if (report.failed.length > 0) process.exitCode = 2;
    });
  });

devices
  .command('status')
  .description('suspend, reactivate or retire a device (from the CLI it applies at the device\'s next CONNECT: the running platform reads the registry afresh for each; the API also disconnects it at once)')
  .argument('<id>')
  .argument('<status>', 'active | suspended | replaced')
  .action(async (id: string, status: string) => {
    const { withRegistry } = await import('./registry.js');
    if (status !== 'active' && status !== 'suspended' && status !== 'replaced') throw new Error(`status ${status}: one of active, suspended, replaced`);
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      registry.setDeviceStatus(id, status);
      print(registry.getDevice(id));
    });
  });
devices
  .command('rotate-secret')
  .description('issue a new secret for a device (the old one stops working); prints it once')
  .argument('<id>')
  .action(async (id: string) => {
    const { withRegistry } = await import('./registry.js');
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      print({ id, secret: registry.rotateDeviceSecret(id) });
    });
  });

const users = program.command('users').description('manage users');
for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
  users
    .command(name)
    .description(disabled ? 'disable a user: no login, sessions end' : 'enable a disabled user again')
    .argument('<username>')
    .action(async (username: string) => {
      const { withRegistry } = await import('./registry.js');
      await withRegistry(loadConfig().DATA_DIR, async (registry) => {
        registry.setUserDisabled(username, disabled);
        print(registry.getUser(username));
      });
    });
}
users
  .command('password')
  .description('set a new random password for a user (their sessions end); prints it once')
  .argument('<username>')
  .action(async (username: string) => {
    const { withRegistry } = await import('./registry.js');
    const { newSecret } = await import('../registry/secrets.js');
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      const password = newSecret();
      await registry.setPassword(username, password);
      print({ username, password });
    });
  });
users
  .command('add')
  .requiredOption('--username <name>')
  .requiredOption('--role <role>', 'admin | regulator | inspector')
  .option('--regions <list>', 'comma-separated regions, e.g. SH,JS', '')
  .action(async (o: { username: string; role: string; regions: string }) => {
    const { withRegistry } = await import('./registry.js');
    const { newSecret } = await import('../registry/secrets.js');
    await withRegistry(loadConfig().DATA_DIR, async (registry) => {
      const password = newSecret();
      const user = await registry.addUser({ username: o.username, role: o.role, regions: o.regions ? o.regions.split(',') : [], password });
      print({ ...user, password });
    });
  });

program
  .command('sim')
  .description('run a simulated fleet against a broker (devices are registered in DATA_DIR)')
  .option('--devices <n>', 'approximate fleet size', int, 300)
  .option('--broker <url>', 'MQTT broker', 'mqtt://127.0.0.1:1883')
  .option('--speed <x>', 'time acceleration', num, 1440)
  .option('--days-back <d>', 'start this many days ago', num, 30)
  .option('--seed <n>', 'random seed', int, 1)
  .option('--truth <file>', 'write ground truth here on exit')
  .option('--duplicates <fraction>', 'readings published twice', num, 0.001)
  .option('--out-of-order <fraction>', 'readings swapped with their successor', num, 0.001)
  .action(async (o: { devices: number; broker: string; speed: number; daysBack: number; seed: number; truth?: string; duplicates: number; outOfOrder: number }) => {
    const { runSim } = await import('./sim.js');
    await runSim({ ...o, dataDir: loadConfig().DATA_DIR });
  });

program
  .command('sampling-plan')
  .description('ISO 2859-1 (GB/T 2828.1) single sampling plan for a lot')
  .requiredOption('--lot-size <n>', 'lot size', int)
  .requiredOption('--aql <a>', 'AQL, percent nonconforming (0.010…10)', num)
  .option('--level <level>', 'I | II | III | S-1…S-4', 'II')
  .option('--inspection <severity>', 'normal | tightened | reduced', 'normal')
  .option('--json', 'print {codeLetter, sampleSize, accept, reject}')
  .action(async (o: { lotSize: number; aql: number; level: string; inspection: string; json?: boolean }) => {
    const { samplingPlanCommand } = await import('./sampling-plan.js');
    process.stdout.write(samplingPlanCommand(o));
  });

program
  .command('bench')
  .description('run a benchmark from bench/ (analytics, ingest, influx, sim, e2e); prints one JSON object')
  .argument('<name>')
  .argument('[args...]', 'passed to the benchmark')
  .allowUnknownOption()
  .action(async (name: string, args: string[]) => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const file = new URL(`../bench/${name}.js`, import.meta.url);
    if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) throw new InvalidArgumentError(`no benchmark named ${name}`);
    const r = spawnSync(process.execPath, ['--expose-gc', file.pathname, ...args], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('eval')
  .description('run a scenario through the simulator and the analytics in-process, in accelerated event time, and score it against ground truth')
  .requiredOption('--scenario <file>', 'scenario JSON (docs/scenarios.md)')
  .option('--json', 'print one JSON object')
  .option('--quiet', 'no progress on stderr')
  .option('--workers <n>', 'worker threads, each evaluating a share of the sites (default: the available cores)', parseCount)
  .option('--seed <n>', "replaces the scenario's seed: the same fleet and faults, drawn anew", int)
  .option('--step-cusum <h>', "decision limit of the area balance's per-meter step CUSUM (default 5), or 'off'", (v: string) => (v === 'off' ? Infinity : positive(v)))
  .option('--loss-walk <q>', "process-noise variance per hour of the area balance's two loss terms (default 3e-9): how far they may wander", positive)
  .action(async (o: { scenario: string; json?: boolean; quiet?: boolean; workers?: number; seed?: number; stepCusum?: number; lossWalk?: number }) => {
    const { runEvaluationParallel } = await import('../devices-sim/evaluate-parallel.js');
    const scenario = JSON.parse(readFileSync(o.scenario, 'utf8')) as Parameters<typeof runEvaluationParallel>[0];
    if (o.seed !== undefined) scenario.seed = o.seed;
    let shown = -1;
    const result = await runEvaluationParallel(scenario, {
      ...(o.workers ? { workers: o.workers } : {}),
      area: { ...(o.stepCusum !== undefined ? { stepThreshold: o.stepCusum } : {}), ...(o.lossWalk !== undefined ? { qLoss: o.lossWalk } : {}) },
      onProgress: (f) => {
        const pct = Math.floor(f * 20) * 5;
        if (!o.quiet && pct !== shown && process.stderr.isTTY !== undefined) {
          shown = pct;
          process.stderr.write(`eval: ${pct}% of simulated time\n`);
        }
      },
    });
    if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else print(result);
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`driftwatch: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const e = err as { code?: string; message?: string };
  process.stderr.write(`driftwatch: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
  process.exit(1);
});
