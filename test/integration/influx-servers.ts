import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './platform-process.js';

export const INFLUXD = '/usr/bin/influxd';
export const VICTORIA = '/usr/bin/victoria-metrics';

/**
 * Whether the integration tests for a server run: always under CI (where a missing binary must
 * fail the run, not skip it), elsewhere only when the binary is installed.
 */
export function serverTestsEnabled(bin: string): boolean {
  return Boolean(process.env.CI) || existsSync(bin);
}

export interface TsdbServer {
  url: string;
  port: number;
  dir: string;
  /** kill -9 (an outage, not a shutdown) */
  kill(): Promise<void>;
  /** start again on the same port and data */
  restart(): Promise<void>;
  /** stops the server and removes its data */
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${log()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not answer ${url} within 30 s: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

async function serve(bin: string, args: (port: number) => string[], ready: string, dir: string, port: number): Promise<TsdbServer> {
  let child: ChildProcess;
  let log = '';
  const launch = async () => {
    log = '';
    child = spawn(bin, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => {
      log = (log + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await waitReady(`http://127.0.0.1:${port}${ready}`, child, () => log);
  };
  await launch();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    restart: launch,
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** InfluxDB 1.x on loopback, free ports, data in a temp dir, every listener but HTTP off. */
export async function startInfluxd(): Promise<TsdbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-influxd-'));
  const port = await freePort();
  const rpc = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[coordinator]
  log-queries-after = "0s"
[retention]
  enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`,
  );
  return serve(INFLUXD, () => ['-config', conf], '/ping', dir, port);
}

/** VictoriaMetrics on loopback, a free port, data in a temp dir. */
export async function startVictoria(): Promise<TsdbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-vm-'));
  const port = await freePort();
  return serve(VICTORIA, (p) => [`-httpListenAddr=127.0.0.1:${p}`, `-storageDataPath=${dir}`, '-loggerLevel=ERROR'], '/health', dir, port);
}

/** InfluxQL statement on an InfluxDB 1.x (POST, so CREATE/DROP work). */
export async function influxql(url: string, q: string, db?: string): Promise<unknown> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db) params.set('db', db);
  const r = await fetch(`${url}/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() });
  const body = await r.text();
  if (!r.ok) throw new Error(`${q}: ${r.status} ${body}`);
  return JSON.parse(body) as unknown;
}

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/** Every series VictoriaMetrics holds whose name matches the regex, through /api/v1/export. */
export async function victoriaExport(url: string, nameRegex: string): Promise<ExportedSeries[]> {
  await fetch(`${url}/internal/force_flush`);
  const params = new URLSearchParams({ 'match[]': `{__name__=~"${nameRegex}"}`, start: '0' });
  const r = await fetch(`${url}/api/v1/export?${params.toString()}`);
  if (!r.ok) throw new Error(`export: ${r.status} ${await r.text()}`);
  const text = await r.text();
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ExportedSeries);
}
