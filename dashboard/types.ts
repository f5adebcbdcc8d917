import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { Region } from '../ingest/readings.js';
import type { Registry } from '../registry/registry.js';
import type { TelemetryStore } from '../ingest/store/port.js';

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
  /** ms */
  windowMs?: number;
  /** keys tracked at most; the oldest are forgotten first */
  maxKeys?: number;
}

export interface DashboardOptions {
  registry: Registry;
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
