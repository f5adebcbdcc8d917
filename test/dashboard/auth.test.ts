import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { makeFixture, PASSWORD, type Fixture } from './fixture.js';
import { AcceleratedClock, systemClock } from '../../lib/clock.js';

let f: Fixture;
beforeAll(async () => {
  f = await makeFixture({ loginLimit: { maxFailures: 3, windowMs: 60_000 } });
});
afterAll(async () => f.close());

describe('health', () => {
  it('answers without a session, with uptime from the injected clock and the version', async () => {
    f.clock.advance(5_000);
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', uptimeS: 5, version: '9.9.9-test' });
  });
});

describe('login', () => {
  it('returns a token and the user for the right password', async () => {
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'reg-sh', password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ token: string; user: unknown }>();
    expect(body.user).toEqual({ username: 'reg-sh', role: 'regulator', regions: ['SH'] });
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const me = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `Bearer ${body.token}` } });
    expect(me.statusCode).toBe(200);
  });

  it('answers 401 DSH_LOGIN_FAILED for a wrong password and for an unknown user alike', async () => {
    for (const username of ['admin', 'nobody']) {
      const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'wrong password!' }, remoteAddress: '10.0.0.9' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'DSH_LOGIN_FAILED', status: 401, error: { code: 'DSH_LOGIN_FAILED', message: 'wrong username or password' } });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('answers 400 naming the missing field', async () => {
    const res = await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('DSH_BAD_REQUEST');
    expect(res.json().error.message).toContain('body.password');
  });

  it('rate-limits failed logins per IP and username, and the window expires', async () => {
    const attempt = (password: string, remoteAddress = '10.0.0.1', username = 'insp-js') =>
      f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress });
    for (let i = 0; i < 3; i++) expect((await attempt('not the password')).statusCode).toBe(401);
    // Blocked even with the right password: the limiter answers before the password is checked.
    const blocked = await attempt(PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('DSH_LOGIN_RATE_LIMITED');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another address, or another user from the same address, is not affected.
    expect((await attempt(PASSWORD, '10.0.0.2')).statusCode).toBe(200);
    expect((await attempt(PASSWORD, '10.0.0.1', 'reg-sh')).statusCode).toBe(200);
    f.clock.advance(60_001);
    expect((await attempt(PASSWORD)).statusCode).toBe(200);
  });
});

describe('sessions and roles', () => {
  it('answers 401 without a token, with a malformed one and with an unknown one', async () => {
    for (const authorization of [undefined, 'Basic YWRtaW46eA==', 'Bearer short', `Bearer ${'x'.repeat(43)}`]) {
      const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/devices', headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('DSH_UNAUTHENTICATED');
    }
  });

  it('forbids an inspector from adding a device (403) and adds nothing', async () => {
    const res = await f.dashboard.app.inject({
      method: 'POST',
      url: '/api/devices',
      headers: f.auth('insp-js'),
      payload: { id: 'sneaky', kind: 'meter', model: 'X', accuracyClass: 'B', region: 'JS', site: 'a', installDate: '2024-01-01' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('DSH_FORBIDDEN');
    expect(f.registry.getDevice('sneaky')).toBeNull();
  });

  it('forbids inspectors the stats and the quarantine', async () => {
    for (const url of ['/api/stats', '/api/quarantine']) {
      const res = await f.dashboard.app.inject({ method: 'GET', url, headers: f.auth('insp-js') });
      expect(res.statusCode).toBe(403);
    }
  });

  it('logout ends the session', async () => {
    const login = await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: PASSWORD } });
    const headers = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
    expect((await f.dashboard.app.inject({ method: 'GET', url: '/api/stats', headers })).statusCode).toBe(200);
    expect((await f.dashboard.app.inject({ method: 'POST', url: '/api/auth/logout', headers })).statusCode).toBe(204);
    expect((await f.dashboard.app.inject({ method: 'GET', url: '/api/stats', headers })).statusCode).toBe(401);
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await f.dashboard.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('DSH_ROUTE_NOT_FOUND');
  });
});

describe('login under load and abuse', () => {
  it('limits failures per address across usernames, and audits a blocked key once per block', async () => {
    const g = await makeFixture({ loginLimit: { maxFailures: 3, maxFailuresPerIp: 5, windowMs: 60_000 } });
    try {
      const attempt = (username: string, password = 'not the password') =>
        g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress: '10.0.0.50' });
      // five names, one failure each: no name reaches its own limit of 3
      for (let i = 0; i < 5; i++) expect((await attempt(`user${i}`)).statusCode).toBe(401);
      expect((await attempt('user9')).statusCode).toBe(429);
      expect((await attempt('admin', PASSWORD)).statusCode).toBe(429);
      for (let i = 0; i < 20; i++) await attempt('user9');
      const rows = g.dashboard.audit.list({ limit: 200 }).items.filter((e) => e.detail === 'rate limited');
      expect(rows.filter((e) => e.actor === 'user9')).toHaveLength(1);
      // another address is not affected
      const other = await g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: PASSWORD }, remoteAddress: '10.0.0.51' });
      expect(other.statusCode).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('throttles on the real time even when the platform runs an accelerated demo clock', async () => {
    // 15 minutes of this clock pass in under a millisecond of real time
    const g = await makeFixture({ clock: new AcceleratedClock(Date.now(), 1e6) as never, wallClock: systemClock });
    try {
      const attempt = () => g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: 'not the password' }, remoteAddress: '10.0.0.60' });
      for (let i = 0; i < 5; i++) expect((await attempt()).statusCode).toBe(401);
      expect((await attempt()).statusCode).toBe(429);
    } finally {
      await g.close();
    }
  });

  it('answers logins beyond the concurrent password checks 503 with Retry-After, and the rest as usual', async () => {
    const g = await makeFixture({ loginLimit: { maxConcurrent: 2, maxFailures: 100, maxFailuresPerIp: 100 } });
    try {
      const all = await Promise.all(
        Array.from({ length: 12 }, (_, i) => g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: `nobody${i}`, password: 'not the password' }, remoteAddress: '10.0.0.70' })),
      );
      const busy = all.filter((r) => r.statusCode === 503);
      expect(busy.length).toBeGreaterThanOrEqual(1);
      expect(busy[0]?.json().error.code).toBe('DSH_BUSY');
      expect(busy[0]?.headers['retry-after']).toBe('1');
      expect(all.every((r) => r.statusCode === 503 || r.statusCode === 401)).toBe(true);
      // once the checks are done, a login goes through
      expect((await g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'admin', password: PASSWORD }, remoteAddress: '10.0.0.70' })).statusCode).toBe(200);
    } finally {
      await g.close();
    }
  });
});

describe('HTTP connections', () => {
  it('refuses connections beyond the per-address cap, and serves again once they close', async () => {
    const g = await makeFixture({ maxConnectionsPerIp: 3, loopbackExempt: false });
    try {
      const { port } = await g.dashboard.listen(0, '127.0.0.1');
      const sockets = await Promise.all(Array.from({ length: 3 }, () => new Promise<Socket>((resolve) => { const s = connect(port, '127.0.0.1', () => resolve(s)); })));
      const fourth = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => fourth.once('close', () => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});

describe('user lifecycle', () => {
  it('an admin disables a user: their sessions end and they cannot log in until re-enabled', async () => {
    const g = await makeFixture();
    try {
      const app = g.dashboard.app;
      const login = () => app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'insp-js', password: PASSWORD } });
      const token = (await login()).json<{ token: string }>().token;
      const off = await app.inject({ method: 'PATCH', url: '/api/users/insp-js', headers: g.auth('admin'), payload: { disabled: true } });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ username: 'insp-js', disabled: true });
      expect((await app.inject({ method: 'GET', url: '/api/devices', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
      expect((await login()).statusCode).toBe(401);
      await app.inject({ method: 'PATCH', url: '/api/users/insp-js', headers: g.auth('admin'), payload: { disabled: false } });
      expect((await login()).statusCode).toBe(200);
      expect((await app.inject({ method: 'PATCH', url: '/api/users/insp-js', headers: g.auth('reg-sh'), payload: { disabled: true } })).statusCode).toBe(403);
      expect((await app.inject({ method: 'PATCH', url: '/api/users/admin', headers: g.auth('admin'), payload: { disabled: true } })).statusCode).toBe(400);
      expect((await app.inject({ method: 'PATCH', url: '/api/users/nobody', headers: g.auth('admin'), payload: { disabled: true } })).statusCode).toBe(404);
      expect(g.dashboard.audit.list({ limit: 10, action: 'user_update' }).items).toHaveLength(2);
    } finally {
      await g.close();
    }
  });

  it('a user changes their own password: every session of theirs ends, the new password works', async () => {
    const g = await makeFixture();
    try {
      const app = g.dashboard.app;
      const token = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'reg-sh', password: PASSWORD } })).json<{ token: string }>().token;
      const headers = { authorization: `Bearer ${token}` };
      const wrong = await app.inject({ method: 'POST', url: '/api/auth/password', headers, payload: { current: 'not it at all', password: 'a brand new passphrase' } });
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().error.code).toBe('DSH_PASSWORD_WRONG');
      const ok = await app.inject({ method: 'POST', url: '/api/auth/password', headers, payload: { current: PASSWORD, password: 'a brand new passphrase' } });
      expect(ok.statusCode).toBe(204);
      expect((await app.inject({ method: 'GET', url: '/api/devices', headers })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/api/devices', headers: g.auth('reg-sh') })).statusCode).toBe(401);
      expect((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'reg-sh', password: 'a brand new passphrase' } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'reg-sh', password: PASSWORD } })).statusCode).toBe(401);
    } finally {
      await g.close();
    }
  });
});

describe('login limits by address', () => {
  it('count an IPv6 /64 as one address, and audit a blocked address once whatever usernames it cycles', async () => {
    const g = await makeFixture({ loginLimit: { maxFailures: 3, maxFailuresPerIp: 5, windowMs: 60_000 } });
    try {
      const attempt = (username: string, i: number) =>
        g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: 'not the password' }, remoteAddress: `2001:db8:1:2::${(i + 1).toString(16)}` });
      for (let i = 0; i < 5; i++) expect((await attempt(`u${i}`, i)).statusCode).toBe(401);
      for (let i = 5; i < 40; i++) expect((await attempt(`x${i}`, i)).statusCode).toBe(429);
      expect(g.dashboard.audit.list({ limit: 100 }).items.filter((e) => e.detail === 'rate limited')).toHaveLength(1);
    } finally {
      await g.close();
    }
  });

  it('hold no per-address limit on loopback (an untrusted proxy), while the per-username one still holds', async () => {
    const g = await makeFixture({ loginLimit: { maxFailures: 3, maxFailuresPerIp: 5, windowMs: 60_000 } });
    try {
      const attempt = (username: string, password = 'not the password') => g.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress: '127.0.0.1' });
      for (let i = 0; i < 30; i++) expect((await attempt(`attacker${i}`)).statusCode).toBe(401);
      expect((await attempt('admin', PASSWORD)).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) await attempt('reg-sh');
      expect((await attempt('reg-sh', PASSWORD)).statusCode).toBe(429);
    } finally {
      await g.close();
    }
  });
});
