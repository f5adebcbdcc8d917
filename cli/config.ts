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
  /** where SQLite databases and the initial admin password live */
  DATA_DIR: z.string().min(1).default('./data'),
  /** 'full' fsyncs every group commit (survives power loss); 'normal' survives a killed process only */
  DURABILITY: z.enum(['full', 'normal']).default('full'),
  /** demo fleet size; 0 disables it */
  SIM_DEVICES: z.coerce.number().int().min(0).max(100_000).default(320),
  /** demo fleet time acceleration (simulated seconds per real second) */
  SIM_SPEED: z.coerce.number().positive().max(1_000_000).default(1440),
  /** the demo replays from this many days ago up to now, then continues in real time */
  SIM_DAYS_BACK: z.coerce.number().positive().max(3650).default(90),
  SIM_SEED: z.coerce.number().int().default(20231117),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** serve the API's OpenAPI document at /docs */
  DOCS: bool.default(true),
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
