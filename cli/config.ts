import { readFileSync } from 'node:fs';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

/**
 * Every setting, its default and its meaning. The README's configuration table is this list.
 * Values come from the environment, optionally under a JSON file named by CONFIG_FILE
 * (environment wins).
 */
export const ConfigSchema = z.strictObject({
  /** HTTP API and dashboard port */
  PORT: port.default(8080),
  /** address the HTTP and MQTT listeners bind to; 0.0.0.0 exposes them beyond this host */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** embedded broker's MQTT port */
  MQTT_PORT: port.default(1883),
  /** consume an external broker (e.g. mqtt://user:pass@host:1883) instead of embedding one */
  MQTT_URL: z.url().optional(),
  /** client id of the persistent session on an external broker */
  MQTT_CLIENT_ID: z.string().min(1).default('driftwatch-ingest'),
  /** service account for internal clients on the embedded broker (password generated when unset) */
  MQTT_SERVICE_USER: z.string().min(1).default('driftwatch-service'),
  MQTT_SERVICE_PASSWORD: z.string().min(12).optional(),
  /** MQTT connections from one address (an IPv6 /64): raise it for many devices behind one NAT; 0 turns the cap off */
  MQTT_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(200),
  /** HTTP connections from one address */
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(64),
  /**
   * behind a reverse proxy: the proxy's addresses (comma-separated, CIDR allowed) whose
   * X-Forwarded-For is believed, so login limits key on the client, not on the proxy
   */
  TRUST_PROXY: z.string().min(1).optional(),
  /** where SQLite databases and the initial admin password live */
  DATA_DIR: z.string().min(1).default('./data'),
  /** 'full' fsyncs every group commit (survives power loss); 'normal' survives a killed process only */
  DURABILITY: z.enum(['full', 'normal']).default('full'),
  /** demo fleet size; 0 disables it */
  SIM_DEVICES: z.coerce.number().int().min(0).max(100_000).default(320),
  /** demo fleet time acceleration (simulated seconds per real second) */
  SIM_SPEED: z.coerce.number().positive().max(1_000_000).default(20_160),
  /** the demo replays from this many days ago up to now, then continues in real time */
  SIM_DAYS_BACK: z.coerce.number().positive().max(3650).default(120),
  SIM_SEED: z.coerce.number().int().default(20231117),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** serve the API's OpenAPI document at /docs */
  DOCS: bool.default(true),
  /** store readings in InfluxDB at this URL (through a durable outbox under DATA_DIR); unset: the embedded SQLite store */
  INFLUX_URL: z.url().optional(),
  /** v2: /api/v2/write through the official client (InfluxDB 2.x, 3.x, 1.8+); v1: /write of InfluxDB 1.x */
  INFLUX_API: z.enum(['v2', 'v1']).default('v2'),
  /** v2: API token (also sent on /query reads) */
  INFLUX_TOKEN: z.string().min(1).optional(),
  INFLUX_ORG: z.string().min(1).optional(),
  INFLUX_BUCKET: z.string().min(1).optional(),
  /** v1: database; v2: the DBRP-mapped database InfluxQL reads use (default: the bucket's name) */
  INFLUX_DB: z.string().min(1).optional(),
  /** v1: credentials (basic auth) */
  INFLUX_USER: z.string().min(1).optional(),
  INFLUX_PASSWORD: z.string().optional(),
  /** v1: retention policy to write to and read from (default: the database's default) */
  INFLUX_RP: z.string().min(1).optional(),
  /** MB; beyond this the outbox refuses readings (devices keep them, unacknowledged) until it drains */
  INFLUX_OUTBOX_MAX_MB: z.coerce.number().positive().max(1_000_000).default(1024),
  /** days a redelivered reading is recognised for, at least (the outbox's deduplication index holds at most twice this) */
  INFLUX_DEDUP_DAYS: z.coerce.number().positive().max(365).default(7),
  /** write requests in flight */
  INFLUX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  /** lines per write request */
  INFLUX_BATCH_LINES: z.coerce.number().int().min(1).max(100_000).default(5000),
  /** gzip write bodies (for a slow link; on loopback it brought nothing, bench/influx.ts) */
  INFLUX_GZIP: bool.default(false),
}).superRefine((c, ctx) => {
  if (!c.INFLUX_URL) return;
  const need = c.INFLUX_API === 'v2' ? (['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const) : (['INFLUX_DB'] as const);
  for (const k of need) if (!c[k]) ctx.addIssue({ code: 'custom', path: [k], message: `required when INFLUX_URL is set with INFLUX_API=${c.INFLUX_API}` });
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates configuration; throws ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let fromFile: Record<string, unknown> = {};
  if (env['CONFIG_FILE']) {
    try {
      fromFile = JSON.parse(readFileSync(env['CONFIG_FILE'], 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`CONFIG_FILE ${env['CONFIG_FILE']}: ${(err as Error).message}`);
    }
  }
  const known = Object.keys(ConfigSchema.shape);
  const merged: Record<string, unknown> = {};
  for (const key of known) {
    const v = env[key] ?? fromFile[key];
    if (v !== undefined && v !== '') merged[key] = typeof v === 'string' ? v : String(v);
  }
  for (const key of Object.keys(fromFile)) {
    if (!known.includes(key)) throw new ConfigError(`CONFIG_FILE: unknown setting ${key}`);
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(merged[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
