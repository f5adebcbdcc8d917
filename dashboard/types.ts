import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { Region } from '../ingest/readings.js';
import type { Registry } from '../registry/registry.js';
import type { TelemetryStore } from '../ingest/store/port.js';
import type { Analytics } from '../analytics/engine.js';
import type { Sampling } from '../analytics/sampling/sampling.js';
import type { Db } from '../lib/sqlite.js';

/** One quarantined message as the API lists it. */
export interface QuarantineItem {
  /** the reader's key for the row (ingest's SQLite quarantine uses an integer) */
  id: string | number;
  deviceId: string;
  topic: string;
  /** the raw payload as received (text; binary payloads as the reader chooses to render them) */
  payload: string;
  /** rejection code, e.g. ING_PAYLOAD_INVALID */
  reason: string;
  detail: string | null;
  /** ms, broker receive time */
  receivedAt: number;
}

export interface QuarantineQuery {
  limit: number;
  cursor?: string | undefined;
  deviceId?: string | undefined;
  reason?: string | undefined;
  /** only messages of devices in these regions; absent means all */
  regions?: readonly Region[] | undefined;
}

/** The narrow read side of ingest's quarantine that the API needs. */
export interface QuarantineReader {
  list(q: QuarantineQuery): { items: QuarantineItem[]; nextCursor: string | null } | Promise<{ items: QuarantineItem[]; nextCursor: string | null }>;
}

export interface LoginLimitOptions {
  /** failed attempts allowed per IP and username within one window */
  maxFailures?: number;
  /** failed attempts allowed per IP, whatever the usernames, within one window */
  maxFailuresPerIp?: number;
  /**
   * password checks (scrypt, ~32 MB and ~0.2 s each) running at once; more are answered 503 at
   * once. They share the thread pool with the broker's device secret checks, which keep a limit of
   * their own (BrokerLimits.maxConcurrentAuth, broker/broker.ts: why two, and what 32 times this
   * plus that may be at most).
   */
  maxConcurrent?: number;
  /** ms */
  windowMs?: number;
  /** keys tracked at most; the oldest are forgotten first */
  maxKeys?: number;
}

/** The parts of analytics the API reads and acts on (alerts, orders, per-instrument state and history). */
export type AnalyticsView = Pick<Analytics, 'alerts' | 'orders' | 'state' | 'estimates' | 'gradeHistory' | 'grade' | 'stats'>;

/** Numbers the composition root gathers from the parts for `/metrics`, read at scrape time. */
export interface MetricsSnapshot {
  /** readings received by ingest since start */
  received: number;
  /** new readings stored since start */
  accepted: number;
  /** redeliveries of stored readings since start */
  duplicates: number;
  /** quarantined messages by reason code */
  quarantined: Readonly<Record<string, number>>;
  /** readings waiting in ingest for a commit */
  ingestPending: number;
  /** readings a remote store has not confirmed yet */
  storePending: number;
  /** open MQTT connections (0 when consuming an external broker) */
  mqttConnections: number;
  /** ms, platform time minus the oldest site watermark */
  analyticsLagMs: number;
}

export interface DashboardOptions {
  registry: Registry;
  /** sampling verification: lots, lists, results, decisions (routes under /api/lots, /api/sampling-lists, /api/verifications) */
  sampling?: Sampling;
  /** analytics: alerts, orders, grades; the routes that read it are registered only when it is given */
  analytics?: AnalyticsView;
  /** database for the audit log (logins and state changes); in memory when absent */
  auditDb?: Db;
  /** counters for Prometheus `/metrics`; only HTTP metrics are served without it */
  metrics?: () => MetricsSnapshot;
  /** serve the web page at / (default true) */
  web?: boolean;
  /** live alert streams: how many may be open at once, and the heartbeat period (ms) */
  stream?: { maxStreams?: number; maxStreamsPerUser?: number; heartbeatMs?: number };
  /**
   * the real time, for what must not speed up with an accelerated demo clock: login throttling
   * windows and audit timestamps (default the system clock)
   */
  wallClock?: Clock;
  /** HTTP connections at once, in all and from one address (defaults 2048 and 64) */
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  /** loopback addresses are not held to the per-address cap (a reverse proxy on this host brings everyone from there); default true */
  loopbackExempt?: boolean;
  store: TelemetryStore;
  quarantine: QuarantineReader;
  /** ingest, broker and store counters, supplied by the composition root */
  stats: () => Record<string, unknown>;
  clock: Clock;
  /** fastify's loggerInstance, or false for none */
  logger: Logger | false;
  /** reported by /api/health */
  version?: string;
  /** serve the OpenAPI document and its UI under /docs (default true) */
  docs?: boolean;
  /** passed to fastify: set when behind a reverse proxy so rate limits key on the client's address */
  trustProxy?: boolean | string;
  loginLimit?: LoginLimitOptions;
}
