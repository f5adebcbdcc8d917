import { errorTable } from '../lib/errors.js';

/**
 * Ingest's codes. The rejection reasons are what quarantine rows carry; a device never sees them
 * (a rejected reading is still acknowledged, so the device does not resend it forever). Only
 * ING_STORE_FAILED and ING_NOT_RUNNING make accept() reject, and with it the broker withhold PUBACK.
 */
export const IngestErrors = errorTable({
  ING_JSON_MALFORMED: { message: 'payload is not valid JSON', status: 400 },
  ING_SCHEMA_INVALID: { message: 'reading does not match the schema of its device kind', status: 422 },
  ING_VALUE_ABSURD: { message: 'reading has a non-finite or physically implausible value', status: 422 },
  ING_PAYLOAD_OVERSIZE: { message: 'payload is larger than the ingest limit', status: 413 },
  ING_TS_FUTURE: { message: 'reading timestamp is ahead of the platform clock', status: 422 },
  ING_TS_TOO_OLD: { message: 'reading timestamp is older than the backfill window', status: 422 },
  ING_BATCH_TOO_LARGE: { message: 'batch holds more readings than the ingest limit', status: 413 },
  ING_STATUS_INVALID: { message: 'status payload is not a JSON object', status: 400 },
  ING_SEQ_REUSED: { message: 'reading reuses a sequence number already stored with a different reading', status: 409 },
  ING_STORE_FAILED: { message: 'the telemetry store failed to persist readings', status: 503 },
  ING_NOT_RUNNING: { message: 'ingest is not started or already closed', status: 503 },
});

export type IngestErrorCode = keyof typeof IngestErrors.codes;

/** The codes a quarantine row can carry. */
export const REJECT_REASONS = [
  'ING_JSON_MALFORMED',
  'ING_SCHEMA_INVALID',
  'ING_VALUE_ABSURD',
  'ING_PAYLOAD_OVERSIZE',
  'ING_TS_FUTURE',
  'ING_TS_TOO_OLD',
  'ING_BATCH_TOO_LARGE',
  'ING_STATUS_INVALID',
  'ING_SEQ_REUSED',
] as const satisfies readonly IngestErrorCode[];
export type RejectReason = (typeof REJECT_REASONS)[number];
