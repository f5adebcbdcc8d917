import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENTRY = join(import.meta.dirname, '../../dist/cli/driftwatch.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface PlatformProcess {
  child: ChildProcess;
  dataDir: string;
  httpPort: number;
  mqttPort: number;
  base: string;
  stderr: () => string;
  /** resolves with the exit code or signal */
  exited: Promise<number | string>;
}

/** Starts the built platform (`driftwatch start`) as a child process and waits for /api/health. */
export async function startPlatform(env: Record<string, string> = {}, dataDir?: string, ports?: { http: number; mqtt: number }): Promise<PlatformProcess> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'driftwatch-it-'));
  const httpPort = ports?.http ?? (await freePort());
  const mqttPort = ports?.mqtt ?? (await freePort());
  let err = '';
  const child = spawn(process.execPath, [ENTRY, 'start'], {
    env: { ...process.env, DATA_DIR: dir, PORT: String(httpPort), MQTT_PORT: String(mqttPort), SIM_DEVICES: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, sig) => resolve(code ?? sig ?? 'unknown')));
  const base = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`platform exited with ${child.exitCode}: ${err}`);
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`platform did not answer /api/health within 60 s: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, dataDir: dir, httpPort, mqttPort, base, stderr: () => err, exited };
}

export async function stopPlatform(p: PlatformProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  return p.exited;
}

/** The password the platform wrote for its initial admin on first start. */
export function adminPassword(p: PlatformProcess): string {
  return readFileSync(join(p.dataDir, 'initial-admin-password'), 'utf8').trim();
}

/** Logs in through the API and returns the session token. */
export async function loginToken(p: PlatformProcess, username: string, password: string): Promise<string> {
  const res = await fetch(`${p.base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Logs in as the initial admin and returns a fetch helper with its token. */
export async function adminApi(p: PlatformProcess) {
  const token = await loginToken(p, 'admin', adminPassword(p));
  return async <T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${p.base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
}
