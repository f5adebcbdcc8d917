import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { Registry } from '../../registry/registry.js';
import { runEvaluation } from '../../devices-sim/evaluate.js';
import { SMALL_EVAL } from '../devices-sim/eval-scenario.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../dist/cli/driftwatch.js');

describe('the driftwatch command', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'driftwatch-cli-'));
  const env = { ...process.env, DATA_DIR: dataDir };

  it('adds a device and prints its secret once; the registry keeps only a hash that verifies it', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'devices', 'add', '--id', 'ZJ-M001-S01', '--kind', 'scale', '--model', 'ACS-30', '--class', 'III', '--region', 'ZJ', '--site', 'ZJ-M001', '--role', 'trade'], { env });
    const { id, secret } = JSON.parse(stdout) as { id: string; secret: string };
    expect(id).toBe('ZJ-M001-S01');
    const db = openDb(join(dataDir, 'registry.db'));
    const reg = new Registry(db);
    expect(await reg.authenticateDevice(id, secret)).not.toBeNull();
    expect(JSON.stringify(db.prepare('SELECT * FROM devices').all())).not.toContain(secret);
    db.close();
  });

  it('suspends a device and rotates its secret; disables, enables and resets a user', async () => {
    const cli = async (...args: string[]) => JSON.parse((await run(process.execPath, [CLI, ...args], { env })).stdout) as Record<string, unknown>;
    const { secret: old } = (await cli('devices', 'add', '--id', 'ZJ-M001-S02', '--kind', 'scale', '--model', 'ACS-30', '--class', 'III', '--region', 'ZJ', '--site', 'ZJ-M001', '--role', 'trade')) as { secret: string };
    expect(await cli('devices', 'status', 'ZJ-M001-S02', 'suspended')).toMatchObject({ id: 'ZJ-M001-S02', status: 'suspended' });
    const { secret } = (await cli('devices', 'rotate-secret', 'ZJ-M001-S02')) as { secret: string };
    await cli('devices', 'status', 'ZJ-M001-S02', 'active');
    await cli('users', 'add', '--username', 'insp-zj', '--role', 'inspector', '--regions', 'ZJ');
    expect(await cli('users', 'disable', 'insp-zj')).toMatchObject({ username: 'insp-zj', disabled: true });
    expect(await cli('users', 'enable', 'insp-zj')).toMatchObject({ disabled: false });
    const { password } = (await cli('users', 'password', 'insp-zj')) as { password: string };
    const db = openDb(join(dataDir, 'registry.db'));
    const reg = new Registry(db);
    expect(await reg.authenticateDevice('ZJ-M001-S02', secret)).not.toBeNull();
    expect(await reg.authenticateDevice('ZJ-M001-S02', old)).toBeNull();
    expect(await reg.login('insp-zj', password)).not.toBeNull();
    db.close();
    await expect(run(process.execPath, [CLI, 'devices', 'status', 'ZJ-M001-S02', 'gone'], { env })).rejects.toMatchObject({ code: 1 });
  });

  it('imports a CSV with a per-row report and a non-zero exit when a row fails', async () => {
    const csv = join(dataDir, 'devices.csv');
    writeFileSync(csv, 'id,kind,model,accuracyClass,region,site,role,installDate\nAH-A002-M001,meter,DDZY-1,2,AH,AH-A002,customer,2021-06-01\nAH-A002-M002,meter,DDZY-1,2,XX,AH-A002,customer,2021-06-01\nAH-A002-M003,meter,DDZY-1,2,AH,AH-A002,customer,2021-06-01\n');
    const r = await run(process.execPath, [CLI, 'devices', 'import', csv], { env }).then(
      (x) => ({ code: 0, stdout: x.stdout }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(2);
    const report = JSON.parse(r.stdout) as { created: { row: number; id: string }[]; failed: { row: number }[] };
    expect(report.created.map((c) => c.id)).toEqual(['AH-A002-M001', 'AH-A002-M003']);
    expect(report.failed.map((f) => f.row)).toEqual([3]);
  });

  it('names a bad setting and exits with EX_CONFIG', async () => {
    const r = await run(process.execPath, [CLI, 'start'], { env: { ...env, PORT: 'eighty' } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('PORT="eighty"');
  });

  it('benchmarks end to end against a bare broker: every acknowledged reading arrived at both', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'bench', 'e2e', '--devices', '4', '--messages', '5', '--runs', '2']);
    const r = JSON.parse(stdout) as { bare: { taken: number }; driftwatch: { taken: number; readingsPerSecond: number }; throughputRatio: { each: number[] } };
    // two rounds of 4 × 5 readings, new seq numbers in each: all taken, none a duplicate
    expect(r.bare.taken).toBe(40);
    expect(r.driftwatch.taken).toBe(40);
    expect(r.driftwatch.readingsPerSecond).toBeGreaterThan(0);
    expect(r.throughputRatio.each).toHaveLength(2);
  });

  it('prints an ISO 2859-1 plan', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'sampling-plan', '--lot-size', '1200', '--aql', '1.0', '--json']);
    expect(JSON.parse(stdout)).toEqual({ codeLetter: 'J', sampleSize: 80, accept: 2, reject: 3 });
  });

  it('evaluates a scenario over worker threads with the same result as one process', async () => {
    const file = join(dataDir, 'scenario.json');
    writeFileSync(file, JSON.stringify(SMALL_EVAL));
    const { stdout } = await run(process.execPath, [CLI, 'eval', '--scenario', file, '--json', '--quiet', '--workers', '2']);
    const parallel = JSON.parse(stdout) as ReturnType<typeof runEvaluation> & { workers: number };
    expect(parallel.workers).toBe(2);
    const single = runEvaluation(SMALL_EVAL);
    expect({ ...parallel, runtimeSec: 0, workers: 1 }).toEqual({ ...single, runtimeSec: 0, workers: 1 });
  });

  it('passes the balance options of eval through to the balance, and refuses values that make no sense', async () => {
    const file = join(dataDir, 'scenario-options.json');
    writeFileSync(file, JSON.stringify(SMALL_EVAL));
    const { stdout } = await run(process.execPath, [CLI, 'eval', '--scenario', file, '--json', '--quiet', '--workers', '1', '--step-cusum', 'off', '--loss-walk', '3e-10']);
    const viaCli = JSON.parse(stdout) as ReturnType<typeof runEvaluation>;
    const direct = runEvaluation(SMALL_EVAL, { area: { stepThreshold: Infinity, qLoss: 3e-10 } });
    expect({ ...viaCli, runtimeSec: 0, workers: 1 }).toEqual({ ...direct, runtimeSec: 0, workers: 1 });
    expect(viaCli.stepReopensPerAreaYear).toBe(0);
    const bad = await run(process.execPath, [CLI, 'eval', '--scenario', file, '--loss-walk', '-1']).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--loss-walk');
  });
});
