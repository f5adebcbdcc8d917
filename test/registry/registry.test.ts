import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../lib/sqlite.js';
import { MAX_SESSIONS_PER_USER, Registry } from '../../registry/registry.js';
import { DriftwatchError } from '../../lib/errors.js';

const meter = (id: string, region: 'SH' | 'JS' | 'XX' = 'SH') => ({
  id, kind: 'meter' as const, model: 'DDZY-1', accuracyClass: '2', region, site: `${region}-A001`, role: 'customer', installDate: '2022-05-01',
});

describe('Registry', () => {
  it('stores a device with a hashed secret and authenticates only the right secret', async () => {
    const db = openDb(':memory:');
    const reg = new Registry(db);
    const { device, secret } = reg.addDevice(meter('SH-A001-M001'));
    expect(device).toMatchObject({ id: 'SH-A001-M001', kind: 'meter', region: 'SH', status: 'active' });
    expect(secret.length).toBeGreaterThanOrEqual(20);
    const stored = db.prepare('SELECT secret_hash FROM devices WHERE id = ?').get('SH-A001-M001') as { secret_hash: string };
    expect(stored.secret_hash).not.toContain(secret);
    expect(stored.secret_hash.startsWith('scrypt$')).toBe(true);
    expect(await reg.authenticateDevice('SH-A001-M001', secret)).toMatchObject({ id: 'SH-A001-M001' });
    expect(await reg.authenticateDevice('SH-A001-M001', `${secret}x`)).toBeNull();
    expect(await reg.authenticateDevice('SH-A001-M999', secret)).toBeNull();
    reg.setDeviceStatus('SH-A001-M001', 'suspended');
    expect(await reg.authenticateDevice('SH-A001-M001', secret)).toBeNull();
  });

  it('rejects invalid and duplicate devices with codes', () => {
    const reg = new Registry(openDb(':memory:'));
    reg.addDevice(meter('X1'));
    expect(() => reg.addDevice(meter('X1'))).toThrow(expect.objectContaining({ code: 'REG_DEVICE_EXISTS', status: 409 }) as DriftwatchError);
    try {
      reg.addDevice({ ...meter('devices/+/x'), region: 'XX' });
      expect.unreachable();
    } catch (e) {
      expect((e as DriftwatchError).code).toBe('REG_DEVICE_INVALID');
      expect((e as Error).message).toMatch(/id:/);
      expect((e as Error).message).toMatch(/region:/);
    }
  });

  it('pages devices by keyset and filters by region', () => {
    const reg = new Registry(openDb(':memory:'));
    reg.upsertDevices(Array.from({ length: 25 }, (_, i) => ({ input: meter(`D${String(i).padStart(3, '0')}`, i % 2 ? 'JS' : 'SH') as Parameters<Registry['upsertDevices']>[0][number]['input'], secret: 's' })));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = reg.listDevices({}, 10, cursor);
      expect(page.total).toBe(25);
      seen.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    const js = reg.listDevices({ region: ['JS'] }, 100);
    expect(js.total).toBe(12);
    expect(js.items.every((d) => d.region === 'JS')).toBe(true);
    expect(reg.listDevices({ region: [] }, 100).total).toBe(0);
  });

  it('logs users in with sessions that expire', async () => {
    let now = 1_700_000_000_000;
    const reg = new Registry(openDb(':memory:'), () => now);
    await reg.addUser({ username: 'insp-sh', password: 'correct horse battery', role: 'inspector', regions: ['SH'] });
    expect(await reg.login('insp-sh', 'wrong password!')).toBeNull();
    expect(await reg.login('nobody', 'correct horse battery')).toBeNull();
    const s = await reg.login('insp-sh', 'correct horse battery', 60_000);
    expect(s?.user).toEqual({ username: 'insp-sh', role: 'inspector', regions: ['SH'], displayName: null });
    expect(reg.sessionUser(s!.token)?.username).toBe('insp-sh');
    now += 61_000;
    expect(reg.sessionUser(s!.token)).toBeNull();
  });

  it('keeps at most MAX_SESSIONS_PER_USER sessions of one user: a login past it ends the oldest, even within one millisecond', async () => {
    const now = 1_700_000_000_000;
    const reg = new Registry(openDb(':memory:'), () => now);
    await reg.addUser({ username: 'reg-sh', password: 'correct horse battery', role: 'regulator', regions: ['SH'] });
    await reg.addUser({ username: 'reg-js', password: 'correct horse battery', role: 'regulator', regions: ['JS'] });
    const other = await reg.login('reg-js', 'correct horse battery');
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_USER + 3; i++) tokens.push((await reg.login('reg-sh', 'correct horse battery'))!.token);
    const live = tokens.map((t) => reg.sessionUser(t) !== null);
    expect(live).toEqual(tokens.map((_, i) => i >= 3));
    // another user's session is not touched
    expect(reg.sessionUser(other!.token)?.username).toBe('reg-js');
  });

  it('rejects invalid and duplicate users with codes, a duplicate also when both adds hash at once', async () => {
    const reg = new Registry(openDb(':memory:'));
    const user = { username: 'insp', password: 'correct horse battery', role: 'inspector', regions: ['SH'] };
    await expect(reg.addUser({ ...user, password: 'short' })).rejects.toMatchObject({ code: 'REG_USER_INVALID', status: 400 });
    const both = await Promise.allSettled([reg.addUser(user), reg.addUser(user)]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(both.find((r) => r.status === 'rejected')?.reason).toMatchObject({ code: 'REG_USER_EXISTS', status: 409 });
    expect(await reg.login('insp', 'correct horse battery')).not.toBeNull();
  });

  it('checks a password as login does: a wrong password, an unknown user and a disabled one fail alike', async () => {
    const reg = new Registry(openDb(':memory:'));
    await reg.addUser({ username: 'insp', password: 'correct horse battery', role: 'inspector', regions: ['SH'] });
    expect(await reg.checkPassword('insp', 'correct horse battery')).toBe(true);
    expect(await reg.checkPassword('insp', 'wrong password!')).toBe(false);
    expect(await reg.checkPassword('nobody', 'correct horse battery')).toBe(false);
    reg.setUserDisabled('insp', true);
    expect(await reg.checkPassword('insp', 'correct horse battery')).toBe(false);
    expect(await reg.login('insp', 'correct horse battery')).toBeNull();
  });
});

describe('revocation is not outraced, and another process is seen', () => {
  const base = { kind: 'meter', model: 'DDZY-1', accuracyClass: 'B', site: 'area-1', installDate: '2023-05-01', region: 'SH' } as const;

  it('a device suspended, or its secret rotated, while its secret check runs is refused', async () => {
    const reg = new Registry(openDb(':memory:'));
    const { secret } = reg.addDevice({ ...base, id: 'd-1' });
    const suspended = reg.authenticateDevice('d-1', secret);
    reg.setDeviceStatus('d-1', 'suspended');
    expect(await suspended).toBeNull();
    reg.setDeviceStatus('d-1', 'active');
    const rotated = reg.authenticateDevice('d-1', secret);
    reg.rotateDeviceSecret('d-1');
    expect(await rotated).toBeNull();
  });

  it('a login whose password check runs while the password is reset leaves no session open', async () => {
    const reg = new Registry(openDb(':memory:'));
    await reg.addUser({ username: 'insp', password: 'the old password', role: 'inspector', regions: ['SH'] });
    // both hash off the event loop: the login is refused if the new password is stored before its
    // check ends, or its session is ended by the reset if it ends first
    const pending = reg.login('insp', 'the old password');
    await reg.setPassword('insp', 'a brand new password');
    const s = await pending;
    expect(s === null ? null : reg.sessionUser(s.token)).toBeNull();
    expect(await reg.login('insp', 'the old password')).toBeNull();
  });

  it('a change made through another connection to the same registry (the CLI) holds at the next check', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'driftwatch-reg-')), 'registry.db');
    const platform = new Registry(openDb(file));
    const { secret } = platform.addDevice({ ...base, id: 'd-3' });
    expect(await platform.authenticateDevice('d-3', secret)).not.toBeNull();
    const cli = new Registry(openDb(file));
    const fresh = cli.rotateDeviceSecret('d-3');
    expect(await platform.authenticateDevice('d-3', secret)).toBeNull();
    expect(await platform.authenticateDevice('d-3', fresh)).not.toBeNull();
    cli.setDeviceStatus('d-3', 'suspended');
    expect(await platform.authenticateDevice('d-3', fresh)).toBeNull();
  });
});

describe('a registry made before users could be disabled', () => {
  it('gets the column, and its users log in and can be disabled', async () => {
    const db = openDb(':memory:');
    db.exec(`CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, regions TEXT NOT NULL, display_name TEXT, created_at INTEGER NOT NULL)`);
    const old = new Registry(db);
    await old.addUser({ username: 'insp', password: 'an old password', role: 'inspector', regions: ['SH'] });
    expect(await old.login('insp', 'an old password')).not.toBeNull();
    old.setUserDisabled('insp', true);
    expect(await old.login('insp', 'an old password')).toBeNull();
  });
});
