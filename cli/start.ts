import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createAnalytics } from '../analytics/index.js';
import { warmUp } from '../analytics/replay.js';
import { createSampling, type VerificationEvent } from '../analytics/sampling/sampling.js';
import { createBroker } from '../broker/broker.js';
import { createExternalSource } from '../broker/external.js';
import { createDashboard } from '../dashboard/index.js';
import { createIngest } from '../ingest/ingest.js';
import { createInfluxStore, type InfluxTelemetryStore } from '../ingest/store/influx/store.js';
import type { EstimatePoint } from '../ingest/store/port.js';
import type { TelemetryStore } from '../ingest/store/port.js';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.js';
import { AcceleratedClock, systemClock, type Clock } from '../lib/clock.js';
import { createLogger, type Logger } from '../lib/log.js';
import { openDb } from '../lib/sqlite.js';
import { newSecret } from '../registry/secrets.js';
import type { Config } from './config.js';
import { openRegistry } from './registry.js';
import { startDemoFleet } from './demo.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** On first start: an admin with a random password, written where only the operator reads it. */
async function ensureAdmin(registry: ReturnType<typeof openRegistry>['registry'], dataDir: string, log: Logger): Promise<void> {
  if (registry.userCount() > 0) return;
  const password = randomBytes(18).toString('base64url');
  await registry.addUser({ username: 'admin', password, role: 'admin', regions: [] });
  const file = resolve(dataDir, 'initial-admin-password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  log.warn({ file }, 'created user "admin"; its initial password is in this file');
  process.stderr.write(`driftwatch: created user "admin"; password in ${file}\n`);
}

/** A service password kept under DATA_DIR so internal clients keep working across restarts. */
function servicePassword(cfg: Config): string {
  if (cfg.MQTT_SERVICE_PASSWORD) return cfg.MQTT_SERVICE_PASSWORD;
  const file = join(cfg.DATA_DIR, 'service-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const pw = newSecret();
  writeFileSync(file, `${pw}\n`, { mode: 0o600 });
  return pw;
}

/**
 * InfluxDB when INFLUX_URL is set: its outbox lives in telemetry.db next to the quarantine, with
 * the same durability setting, so an acknowledged reading is on local disk before the PUBACK.
 */
function influxStore(cfg: Config, registry: ReturnType<typeof openRegistry>['registry'], db: ReturnType<typeof openDb>, clock: Clock, log: Logger): InfluxTelemetryStore | null {
  if (!cfg.INFLUX_URL) return null;
  const rp = cfg.INFLUX_RP ? { rp: cfg.INFLUX_RP } : {};
  const connection =
    cfg.INFLUX_API === 'v2'
      ? { api: 'v2' as const, url: cfg.INFLUX_URL, token: cfg.INFLUX_TOKEN ?? '', org: cfg.INFLUX_ORG ?? '', bucket: cfg.INFLUX_BUCKET ?? '', ...(cfg.INFLUX_DB ? { db: cfg.INFLUX_DB } : {}), ...rp }
      : { api: 'v1' as const, url: cfg.INFLUX_URL, db: cfg.INFLUX_DB ?? '', ...rp, ...(cfg.INFLUX_USER ? { user: cfg.INFLUX_USER } : {}), ...(cfg.INFLUX_PASSWORD !== undefined ? { password: cfg.INFLUX_PASSWORD } : {}) };
  log.info({ url: cfg.INFLUX_URL, api: cfg.INFLUX_API }, 'telemetry store: InfluxDB through the outbox');
  return createInfluxStore({
    connection,
    outbox: { db },
    outboxMaxBytes: cfg.INFLUX_OUTBOX_MAX_MB * 1024 * 1024,
    dedupWindowMs: cfg.INFLUX_DEDUP_DAYS * 86_400_000,
    deviceTags: (id) => {
      const d = registry.getDevice(id);
      return d ? { model: d.model, class: d.accuracyClass } : undefined;
    },
    clock,
    logger: log.child({ part: 'influx' }),
    inFlight: cfg.INFLUX_IN_FLIGHT,
    batchLines: cfg.INFLUX_BATCH_LINES,
    gzip: cfg.INFLUX_GZIP,
  });
}

/**
 * The composition root: reads nothing but the validated config, wires the parts, owns the ports
 * and the signals. Shutdown runs in reverse order of the data's path: stop the fleet, stop taking
 * messages, commit what ingest holds, then close the API and the databases.
 */
export async function runPlatform(cfg: Config): Promise<void> {
  const log = createLogger(cfg.LOG_LEVEL);
  const started = Date.now();
  const reg = openRegistry(cfg.DATA_DIR);
  await ensureAdmin(reg.registry, cfg.DATA_DIR, log);

  // The demo replays the past up to now at SIM_SPEED; the platform shares its clock, so
  // receive times and the future-timestamp check are in the same simulated time as the fleet.
  const demo = cfg.SIM_DEVICES > 0;
  // A demo restarted on the same data continues its fleet where it left off: the same start and
  // seed give the same fleet and readings, so what the last run published is not sent again (or,
  // counted from 1 again, taken for counters that went back).
  const demoState = demo ? loadDemoState(cfg, log) : null;
  const clock: Clock = demoState ? new AcceleratedClock(demoState.simulatedTo, cfg.SIM_SPEED) : systemClock;

  const telemetryDb = openDb(join(cfg.DATA_DIR, 'telemetry.db'), { synchronous: cfg.DURABILITY === 'full' ? 'FULL' : 'NORMAL' });
  const influx = influxStore(cfg, reg.registry, telemetryDb, clock, log);
  const store: TelemetryStore = influx ?? SqliteTelemetryStore.open({ db: telemetryDb });
  influx?.start();
  const ingest = createIngest({ store, quarantineDb: telemetryDb, clock, logger: log.child({ part: 'ingest' }) });
  await ingest.start();
  const analyticsDb = openDb(join(cfg.DATA_DIR, 'analytics.db'), { synchronous: 'NORMAL' });
  // each instrument's newest verification result, which its state starts from (and a new one, recorded live, replaces)
  const verified = new Map<string, VerificationEvent>();
  const analytics = createAnalytics({
    db: analyticsDb,
    clock,
    devicesOfSite: (site) => reg.registry.devicesOfSite(site),
    logger: log.child({ part: 'analytics' }),
    history: true,
    verificationOf: (id) => verified.get(id),
    // Under an accelerated clock a few hundred milliseconds of transport and commit latency are
    // minutes of simulated time, indistinguishable from a slow device clock: the skew tolerance
    // scales with the acceleration (2 s of real latency), so the demo flags only real skew.
    ...(demo ? { clockSkewMs: Math.max(120_000, cfg.SIM_SPEED * 2000), clockCorrectMs: Math.max(60_000, cfg.SIM_SPEED * 1000), maxClockLagMs: 0 } : {}),
  });
  const sampling = createSampling({
    db: analyticsDb,
    clock,
    devices: () => reg.registry.allDevices(),
    device: (id) => reg.registry.getDevice(id),
    grade: (id) => analytics.grade(id),
    onVerification: (v) => {
      verified.set(v.deviceId, v);
      analytics.recordVerification(v.deviceId, v);
    },
    logger: log.child({ part: 'sampling' }),
  });
  for (const v of sampling.latestVerifications()) verified.set(v.deviceId, v);
  // restart safety: the store is the checkpoint; replay its recent readings before taking new ones
  await warmUp({
    analytics,
    store,
    devices: reg.registry.allDevices(),
    fromMs: clock.now() - 45 * 86_400_000,
    toMs: clock.now() + 86_400_000,
    logger: log.child({ part: 'analytics' }),
  });
  ingest.onAccepted((batch) => analytics.ingest(batch));
  ingest.onQuarantined((rows) => analytics.quarantined(rows));
  // with InfluxDB, the analytics outputs go there too (measurement `analytics`), through the outbox
  const pendingEstimates: EstimatePoint[] = [];
  const sendEstimates = () => {
    if (influx && pendingEstimates.length) influx.appendEstimates(pendingEstimates.splice(0));
  };
  const estimateTimer = influx ? setInterval(sendEstimates, 1000) : undefined;
  estimateTimer?.unref();
  if (influx) analytics.onEstimate((e) => pendingEstimates.push(e));
  sampling.start();
  // estimators fold readings in as they come; completed periods are processed once a second
  const analyticsTimer = setInterval(() => analytics.flush(), 1000);

  const service = { username: cfg.MQTT_SERVICE_USER, secret: servicePassword(cfg) };
  let broker: ReturnType<typeof createBroker> | null = null;
  let external: ReturnType<typeof createExternalSource> | null = null;
  if (cfg.MQTT_URL) {
    external = createExternalSource({
      url: cfg.MQTT_URL,
      clientId: cfg.MQTT_CLIENT_ID,
      getDevice: (id) => reg.registry.getDevice(id),
      ingest,
      clock,
      logger: log.child({ part: 'mqtt-source' }),
    });
    await external.start();
    log.info({ url: cfg.MQTT_URL.replace(/\/\/[^@]*@/, '//***@') }, 'consuming external broker');
  } else {
    broker = createBroker({ registry: reg.registry, ingest, serviceAccounts: [service], clock, logger: log.child({ part: 'broker' }), limits: { maxConnectionsPerAddress: cfg.MQTT_MAX_CONNECTIONS_PER_ADDRESS } });
    const { port } = await broker.listen(cfg.MQTT_PORT, cfg.HOST);
    log.info({ port, host: cfg.HOST }, 'MQTT broker listening');
  }

  // Alerts go out on `alerts/{region}` as they open and change (QoS 1, not retained: a
  // subscriber that needs the current list asks the API), for control rooms that speak MQTT.
  const offAlerts = broker
    ? analytics.alerts.onChange((a, change) => {
        const payload = Buffer.from(JSON.stringify({ change, alert: { id: a.id, deviceId: a.deviceId, region: a.region, kind: a.kind, type: a.type, severity: a.severity, status: a.status, openedAt: a.openedAt, updatedAt: a.updatedAt, summary: a.summary } }));
        broker?.aedes.publish({ cmd: 'publish', topic: `alerts/${a.region}`, payload, qos: 1, retain: false, dup: false }, (err) => {
          if (err) log.warn({ err, alert: a.id }, 'alert not published on MQTT');
        });
      })
    : () => {};

  const dashboard = createDashboard({
    registry: reg.registry,
    analytics,
    sampling,
    auditDb: reg.db,
    metrics: () => {
      const i = ingest.stats();
      const st = store.stats();
      return {
        received: i.received,
        accepted: i.accepted,
        duplicates: i.duplicates,
        quarantined: i.quarantined,
        ingestPending: i.pending,
        storePending: st.pending,
        mqttConnections: broker?.stats().connections ?? 0,
        analyticsLagMs: analytics.stats().lagMs,
      };
    },
    store,
    quarantine: ingest.quarantine,
    stats: () => ({
      uptimeS: Math.round((Date.now() - started) / 1000),
      clock: { now: new Date(clock.now()).toISOString(), speed: clock instanceof AcceleratedClock ? clock.speed : 1 },
      ingest: ingest.stats(),
      store: store.stats(),
      influx: influx?.outboxStats() ?? null,
      broker: broker?.stats() ?? null,
      externalSource: external?.stats() ?? null,
      analytics: analytics.stats(),
      fleet: fleet?.stats() ?? null,
    }),
    clock,
    maxConnectionsPerIp: cfg.HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    // fastify splits a comma-separated list itself
    ...(cfg.TRUST_PROXY ? { trustProxy: cfg.TRUST_PROXY } : {}),
    logger: log.child({ part: 'http' }),
    version: VERSION,
    docs: cfg.DOCS,
  });
  const { port: httpPort } = await dashboard.listen(cfg.PORT, cfg.HOST);
  log.info({ port: httpPort, host: cfg.HOST }, 'HTTP API listening');

  let fleet: Awaited<ReturnType<typeof startDemoFleet>> | null = null;
  let demoTimer: NodeJS.Timeout | null = null;
  if (demo && !cfg.MQTT_URL) {
    fleet = await startDemoFleet({
      registry: reg.registry,
      devices: cfg.SIM_DEVICES,
      seed: cfg.SIM_SEED,
      brokerUrl: `mqtt://${cfg.HOST === '0.0.0.0' ? '127.0.0.1' : cfg.HOST}:${cfg.MQTT_PORT}`,
      clock,
      logger: log.child({ part: 'fleet' }),
      ...(demoState ? { fleetStartMs: demoState.startMs } : {}),
    });
    if (demoState) {
      const save = () => saveDemoState(cfg, { ...demoState, simulatedTo: clock.now() });
      save();
      demoTimer = setInterval(save, 5_000);
      demoTimer.unref();
    }
  }
  process.stderr.write(`driftwatch: API on http://${cfg.HOST}:${httpPort}, MQTT on ${cfg.MQTT_URL ? 'external broker' : `${cfg.HOST}:${cfg.MQTT_PORT}`}${fleet ? `, demo fleet of ${fleet.fleet.devices.length} devices` : ''}\n`);

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    if (demoTimer) clearInterval(demoTimer);
    if (demoState && fleet) saveDemoState(cfg, { ...demoState, simulatedTo: clock.now() });
    const timer = setTimeout(() => {
      log.error('shutdown took longer than 15 s; exiting');
      process.exit(1);
    }, 15_000);
    timer.unref();
    try {
      await fleet?.close();
      offAlerts();
      await broker?.close();
      await external?.close();
      await ingest.close();
      clearInterval(analyticsTimer);
      analytics.flush();
      // the last estimates reach the outbox before the store closes
      clearInterval(estimateTimer);
      sendEstimates();
      await analytics.close();
      sampling.close();
      analyticsDb.close();
      await dashboard.close();
      await store.close();
      telemetryDb.close();
      reg.close();
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      process.exitCode = 1;
    }
    log.flush();
    clearTimeout(timer);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** The demo fleet's identity and how far it got, kept in DATA_DIR between runs. */
interface DemoState {
  seed: number;
  devices: number;
  /** ms: the fleet's start */
  startMs: number;
  /** ms: simulated time the last run had reached */
  simulatedTo: number;
}

function loadDemoState(cfg: Config, log: Logger): DemoState {
  const fresh = (): DemoState => {
    const startMs = Date.now() - cfg.SIM_DAYS_BACK * 86_400_000;
    return { seed: cfg.SIM_SEED, devices: cfg.SIM_DEVICES, startMs, simulatedTo: startMs };
  };
  const file = join(cfg.DATA_DIR, 'demo.json');
  if (!existsSync(file)) return fresh();
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as DemoState;
    if (s.seed !== cfg.SIM_SEED || s.devices !== cfg.SIM_DEVICES || !Number.isFinite(s.startMs) || !Number.isFinite(s.simulatedTo)) {
      log.warn({ file }, 'the demo fleet in DATA_DIR was built with another seed or size: starting a new one (its readings will be taken for reused sequence numbers; use a fresh DATA_DIR)');
      return fresh();
    }
    log.info({ startedAt: new Date(s.startMs).toISOString(), resumesAt: new Date(s.simulatedTo).toISOString() }, 'demo fleet resumes');
    return { ...s, simulatedTo: Math.max(s.startMs, Math.min(s.simulatedTo, Date.now())) };
  } catch (err) {
    log.warn({ err, file }, 'demo state unreadable: starting a new demo fleet');
    return fresh();
  }
}

function saveDemoState(cfg: Config, s: DemoState): void {
  const file = join(cfg.DATA_DIR, 'demo.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(s));
  renameSync(`${file}.tmp`, file);
}
