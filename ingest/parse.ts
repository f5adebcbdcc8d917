import type { Device } from '../registry/registry.js';
import type { Accepted } from './readings.js';
import { FIELDS } from './readings.js';
import { READING_SCHEMAS } from './schemas.js';
import { classifyIssues } from './classify.js';
import type { RejectReason } from './errors.js';
import type { QuarantineEntry } from './quarantine.js';
import type { DeviceState } from './device-health.js';

export interface IngestLimits {
  /** bytes; larger payloads are quarantined unparsed */
  maxPayloadBytes: number;
  /** readings per batch array; longer arrays are quarantined whole */
  maxBatchReadings: number;
  /** ms a reading's ts may lie ahead of the platform clock (device clocks are set to within seconds; 5 min absorbs a badly synced one) */
  futureToleranceMs: number;
  /** ms a reading's ts may lie behind its receive time: the offline backfill window */
  maxAgeMs: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_LIMITS: Readonly<IngestLimits> = {
  maxPayloadBytes: 16 * 1024,
  maxBatchReadings: 1000,
  futureToleranceMs: 5 * 60_000,
  maxAgeMs: 90 * DAY_MS,
};

export interface Parsed {
  accepted: Accepted[];
  rejected: QuarantineEntry[];
}

function reject(out: Parsed, device: Device, topic: string, payload: Buffer, receivedAt: number, reason: RejectReason, detail: string): void {
  out.rejected.push({ deviceId: device.id, region: device.region, topic, payload, reason, detail, receivedAt });
}

/**
 * Validates one `readings` message: size, JSON, array or single reading, schema, timestamps.
 * Never throws: everything wrong ends up in `rejected` with its reason.
 */
export function parseReadings(
  device: Device,
  topic: string,
  payload: Buffer,
  receivedAt: number,
  nowMs: number,
  limits: IngestLimits,
  state: DeviceState,
): Parsed {
  const out: Parsed = { accepted: [], rejected: [] };
  if (payload.length > limits.maxPayloadBytes) {
    reject(out, device, topic, payload, receivedAt, 'ING_PAYLOAD_OVERSIZE', `${payload.length} bytes > ${limits.maxPayloadBytes}`);
    return out;
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    reject(out, device, topic, payload, receivedAt, 'ING_JSON_MALFORMED', err instanceof Error ? err.message : String(err));
    return out;
  }
  if (!Array.isArray(json)) {
    one(out, device, topic, json, payload, receivedAt, nowMs, limits, state);
    return out;
  }
  if (json.length > limits.maxBatchReadings) {
    reject(out, device, topic, payload, receivedAt, 'ING_BATCH_TOO_LARGE', `${json.length} readings > ${limits.maxBatchReadings}`);
    return out;
  }
  for (const el of json as unknown[]) one(out, device, topic, el, null, receivedAt, nowMs, limits, state);
  return out;
}

function one(
  out: Parsed,
  device: Device,
  topic: string,
  value: unknown,
  raw: Buffer | null,
  receivedAt: number,
  nowMs: number,
  limits: IngestLimits,
  state: DeviceState,
): void {
  // A batch element is quarantined as its own JSON, so the row shows the culprit, not the batch.
  const rawOf = () => raw ?? Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const parsed = READING_SCHEMAS[device.kind].safeParse(value);
  if (!parsed.success) {
    const { reason, detail } = classifyIssues(parsed.error.issues);
    reject(out, device, topic, rawOf(), receivedAt, reason, detail);
    return;
  }
  const r = parsed.data;
  const future = r.ts > nowMs + limits.futureToleranceMs;
  state.sawTs(r.ts, receivedAt, future);
  if (future) {
    reject(out, device, topic, rawOf(), receivedAt, 'ING_TS_FUTURE', `ts ${r.ts} is ${r.ts - nowMs} ms ahead of the platform clock`);
    return;
  }
  if (r.ts < receivedAt - limits.maxAgeMs) {
    reject(out, device, topic, rawOf(), receivedAt, 'ING_TS_TOO_OLD', `ts ${r.ts} is ${receivedAt - r.ts} ms before receipt`);
    return;
  }
  const fields: Record<string, number> = {};
  const src = r as unknown as Record<string, unknown>;
  for (const f of FIELDS[device.kind]) {
    const v = src[f];
    if (typeof v === 'number') fields[f] = v;
  }
  const events = 'events' in r && r.events ? [...r.events] : [];
  out.accepted.push({
    deviceId: device.id,
    kind: device.kind,
    region: device.region,
    site: device.site,
    ts: r.ts,
    seq: r.seq,
    receivedAt,
    fields,
    events,
  });
}

/** Validates a `status` message: any JSON object within the size limit. */
export function parseStatus(payload: Buffer, limits: IngestLimits): { ok: true; status: Record<string, unknown> } | { ok: false; reason: RejectReason; detail: string } {
  if (payload.length > limits.maxPayloadBytes) return { ok: false, reason: 'ING_PAYLOAD_OVERSIZE', detail: `${payload.length} bytes > ${limits.maxPayloadBytes}` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'ING_STATUS_INVALID', detail: err instanceof Error ? err.message : String(err) };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, reason: 'ING_STATUS_INVALID', detail: `expected a JSON object, got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}` };
  }
  return { ok: true, status: json as Record<string, unknown> };
}
