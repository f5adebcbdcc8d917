import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { Registry } from '../../registry/registry.js';
import { importDevicesCsv } from '../../registry/csv-import.js';
import { DriftwatchError } from '../../lib/errors.js';
import { makeFixture, type Fixture } from './fixture.js';

const HEADER = 'id,kind,model,accuracyClass,region,site,role,installDate';

describe('importDevicesCsv', () => {
  it('creates the good rows and reports each bad one with its line', async () => {
    const registry = new Registry(openDb(':memory:'), () => 0);
    const csv = [
      HEADER,
      'c-1,meter,DDZY,B,SH,area-1,head,2024-01-02',
      'c-2,meter,DDZY,B,XX,area-1,customer,2024-01-02', // bad region
      '',
      '"c-3",scale,"ACS, 30 kg",III,JS,market-1,,2024-01-03', // quoted comma, empty role → default
      'c-4,meter,DDZY,B,SH,area-1', // too few columns
      'c-1,meter,DDZY,B,SH,area-1,customer,2024-01-02', // duplicate of line 2
      'c-5,tank,TLS,0.5,ZJ,station-1,gauge,2024-02-30', // impossible date
    ].join('\r\n');
    const report = await importDevicesCsv(registry, csv);
    expect(report.created.map((c) => [c.row, c.id])).toEqual([
      [2, 'c-1'],
      [5, 'c-3'],
    ]);
    expect(report.failed.map((x) => [x.row, x.id, x.error.code])).toEqual([
      [3, 'c-2', 'REG_DEVICE_INVALID'],
      [6, 'c-4', 'REG_CSV_ROW_INVALID'],
      [7, 'c-1', 'REG_DEVICE_EXISTS'],
      [8, 'c-5', 'REG_DEVICE_INVALID'],
    ]);
    expect(report.failed[0]?.error.message).toContain('region');
    expect(registry.getDevice('c-3')).toMatchObject({ model: 'ACS, 30 kg', role: 'customer' });
    const c1 = report.created[0];
    expect(c1 && (await registry.authenticateDevice('c-1', c1.secret))).toBeTruthy();
    expect(registry.getDevice('c-2')).toBeNull();
  });

  it('reads params.<name> columns as numeric parameters, in any column order', async () => {
    const registry = new Registry(openDb(':memory:'), () => 0);
    const report = await importDevicesCsv(registry, 'region,id,kind,model,accuracyClass,site,installDate,params.e\nSH,sc-1,scale,X,III,m,2024-01-01,0.005\nSH,sc-2,scale,X,III,m,2024-01-01,abc\n');
    expect(report.created.map((c) => c.id)).toEqual(['sc-1']);
    expect(registry.getDevice('sc-1')?.params).toEqual({ e: 0.005 });
    expect(report.failed[0]?.error.message).toContain('params.e');
  });

  it('rejects the whole file for a bad header, an empty file or too many rows', async () => {
    const registry = new Registry(openDb(':memory:'), () => 0);
    const codeOf = async (csv: string, opts = {}) => {
      try {
        await importDevicesCsv(registry, csv, opts);
        return 'none';
      } catch (err) {
        return err instanceof DriftwatchError ? err.code : 'other';
      }
    };
    expect(await codeOf('id,kind,model\nx,meter,y\n')).toBe('REG_CSV_HEADER');
    expect(await codeOf(`${HEADER},colour\n`)).toBe('REG_CSV_HEADER');
    expect(await codeOf('')).toBe('REG_CSV_HEADER');
    expect(await codeOf(`${HEADER}\na,meter,m,B,SH,s,c,2024-01-01\nb,meter,m,B,SH,s,c,2024-01-01\n`, { maxRows: 1 })).toBe('REG_CSV_TOO_MANY_ROWS');
    expect(registry.getDevice('a')).toBeNull();
  });

  it('reports a row with a broken quote without losing the rows before it', async () => {
    const registry = new Registry(openDb(':memory:'), () => 0);
    // A broken quote can swallow what follows it (no CSV reader can tell where the field was meant to end),
    // so the rows after it are reported, never silently dropped.
    const report = await importDevicesCsv(registry, `${HEADER}\nq-0,meter,DDZY,B,SH,s,c,2024-01-01\nq-1,meter,"DD"ZY,B,SH,s,c,2024-01-01\nq-2,meter,DDZY,B,SH,s,c,2024-01-01\n`);
    expect(report.created.map((c) => c.id)).toEqual(['q-0']);
    expect(report.failed.length).toBeGreaterThanOrEqual(1);
    expect(report.failed.every((x) => x.error.code === 'REG_CSV_ROW_INVALID')).toBe(true);
    expect(report.failed[0]?.row).toBe(3);
  });
});

describe('POST /api/devices/import', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => f.close());

  it('imports text/csv, reporting the bad row and creating the rest', async () => {
    const csv = `${HEADER}\nimp-1,meter,M,B,SH,a,customer,2024-01-01\nimp-2,meter,M,B,SH,a,customer,not-a-date\nimp-3,meter,M,B,JS,a,customer,2024-01-01\n`;
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: { ...f.auth('admin'), 'content-type': 'text/csv' }, payload: csv });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ created: { row: number; id: string; secret: string }[]; failed: { row: number; id: string; error: { code: string } }[] }>();
    expect(body.created.map((c) => c.id)).toEqual(['imp-1', 'imp-3']);
    expect(body.created.every((c) => c.secret.length >= 20)).toBe(true);
    expect(body.failed).toEqual([{ row: 3, id: 'imp-2', error: expect.objectContaining({ code: 'REG_DEVICE_INVALID' }) }]);
    expect(f.registry.getDevice('imp-3')?.region).toBe('JS');
  });

  it('answers 400 for a bad header, 415 for JSON and 403 for a regulator', async () => {
    const bad = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: { ...f.auth('admin'), 'content-type': 'text/csv' }, payload: 'a,b\n1,2\n' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('REG_CSV_HEADER');
    const json = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: f.auth('admin'), payload: { id: 'x' } });
    expect(json.statusCode).toBe(415);
    const reg = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: { ...f.auth('reg-sh'), 'content-type': 'text/csv' }, payload: `${HEADER}\n` });
    expect(reg.statusCode).toBe(403);
  });

  it('accepts a CSV over 1 MiB (up to 10 MiB) but refuses one over 10 MiB', async () => {
    // Blank lines are skipped, so they pad a valid file past the 1 MiB JSON limit.
    const blank = '\n'.repeat(2 * 1024 * 1024);
    const ok = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: { ...f.auth('admin'), 'content-type': 'text/csv' }, payload: `${HEADER}\n${blank}big-1,meter,M,B,SH,a,c,2024-01-01\n` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().created.map((c: { id: string }) => c.id)).toEqual(['big-1']);
    const tooBig = await f.dashboard.app.inject({ method: 'POST', url: '/api/devices/import', headers: { ...f.auth('admin'), 'content-type': 'text/csv' }, payload: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(tooBig.statusCode).toBe(413);
  });
});
