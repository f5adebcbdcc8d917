import type { Device } from '../registry/registry.js';
import type { Accepted } from './readings.js';
import { FIELDS, MAX_PAYLOAD_BYTES } from './readings.js';
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
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  maxBatchReadings: 1000,
  futureToleranceMs: 5 * 60_000,
  maxAgeMs: 90 * DAY_MS,
};

export interface Parsed {
  accepted: Accepted[];
  rejected: QuarantineEntry[];
}

function reject(out: Parsed, device: Device, topic: string, payload: Buffer, receivedAt: number, reason: RejectReason, detail: string, readings = 1): void {
  out.rejected.push({ deviceId: device.id, region: device.region, topic, payload, reason, detail, receivedAt, readings, site: device.site });
}

interface Rejection {
  reason: RejectReason;
  detail: string;
}

/** indices listed in a grouped row's detail at most */
const MAX_INDICES = 20;

/**
 * The rejected elements of one batch, one quarantine row per reason: a single element as its own
 * JSON, several as a JSON array of them with their count, so a batch of 1 000 bad readings is one
 * row and cannot push a thousand rows of other messages out of the quarantine.
 */
function rejectElements(out: Parsed, device: Device, topic: string, receivedAt: number, total: number, bad: readonly { index: number; value: unknown; why: Rejection }[]): void {
  const byReason = new Map<RejectReason, { index: number; value: unknown; why: Rejection }[]>();
  for (const b of bad) {
    const group = byReason.get(b.why.reason);
    if (group) group.push(b);
    else byReason.set(b.why.reason, [b]);
  }
  for (const [reason, group] of byReason) {
    const first = group[0] as (typeof group)[number];
    if (group.length === 1) {
      reject(out, device, topic, elementJson(first.value), receivedAt, reason, `reading ${first.index} of ${total}: ${first.why.detail}`);
      continue;
    }
    const payload = Buffer.from(`[${group.map((g) => elementJson(g.value).toString('utf8')).join(',')}]`, 'utf8');
    const at = group.slice(0, MAX_INDICES).map((g) => g.index).join(', ') + (group.length > MAX_INDICES ? ', …' : '');
    reject(out, device, topic, payload, receivedAt, reason, `${group.length} of ${total} readings (${at}); the first: ${first.why.detail}`, group.length);
  }
}

const elementJson = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');

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
    const why = one(out, device, json, receivedAt, nowMs, limits, state);
    if (why) reject(out, device, topic, payload, receivedAt, why.reason, why.detail);
    return out;
  }
  if (json.length > limits.maxBatchReadings) {
    reject(out, device, topic, payload, receivedAt, 'ING_BATCH_TOO_LARGE', `${json.length} readings > ${limits.maxBatchReadings}`);
    return out;
  }
  // A batch's rejected elements are quarantined as their own JSON, so the row shows the culprits, not the batch.
  const bad: { index: number; value: unknown; why: Rejection }[] = [];
  const elements = json as unknown[];
  for (let i = 0; i < elements.length; i++) {
    const why = one(out, device, elements[i], receivedAt, nowMs, limits, state);
    if (why) bad.push({ index: i, value: elements[i], why });
  }
  if (bad.length > 0) rejectElements(out, device, topic, receivedAt, elements.length, bad);
  return out;
}

/** Validates one reading: pushes it to `out.accepted`, or returns why it is rejected. */
function one(out: Parsed, device: Device, value: unknown, receivedAt: number, nowMs: number, limits: IngestLimits, state: DeviceState): Rejection | null {
  const parsed = READING_SCHEMAS[device.kind].safeParse(value);
  if (!parsed.success) return classifyIssues(parsed.error.issues);
  const r = parsed.data;
  const future = r.ts > nowMs + limits.futureToleranceMs;
  state.sawTs(r.ts, receivedAt, future);
  if (future) return { reason: 'ING_TS_FUTURE', detail: `ts ${r.ts} is ${r.ts - nowMs} ms ahead of the platform clock` };
  if (r.ts < receivedAt - limits.maxAgeMs) return { reason: 'ING_TS_TOO_OLD', detail: `ts ${r.ts} is ${receivedAt - r.ts} ms before receipt` };
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
  return null;
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
