import type { Accepted, Kind } from '../readings.js';

/** One stored reading as the API returns it. */
export interface ReadingRow {
  /** ms, device time */
  ts: number;
  seq: number;
  /** ms, broker receive time */
  receivedAt: number;
  fields: Record<string, number>;
  events: string[];
}

/** A downsampled bucket: mean, min and max of each field over [ts, ts + bucketMs). */
export interface BucketRow {
  ts: number;
  count: number;
  mean: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
}

export interface RangeQuery {
  /** ms inclusive */
  from: number;
  /** ms exclusive */
  to: number;
  limit: number;
}

/** One analytics output point, as a TSDB keeps it: an instrument's error estimate at an event time. */
export interface EstimatePoint {
  deviceId: string;
  region: string;
  site: string;
  /** ms, event time */
  ts: number;
  /** error / MPE */
  ratio: number;
  /** standard uncertainty of ratio */
  sd: number;
  /** fraction */
  error: number;
  /** P(|error| > MPE) */
  pOut: number;
  grade: string;
}

export interface StoreStats {
  readings: number;
  /** readings accepted by the store but not yet confirmed by a remote TSDB (0 for embedded stores) */
  pending: number;
  failed: number;
}

/**
 * What append did with one reading, by its (deviceId, seq) — the deduplication key:
 * - `new`: stored;
 * - `duplicate`: the store already holds this reading (same ts, fields and events; the receive
 *   time may differ): a redelivery, not stored again;
 * - `conflict`: the store holds a different reading under this (deviceId, seq), as when a device
 *   resets its counter after a reboot: not stored, and the caller must keep it elsewhere (ingest
 *   quarantines it as ING_SEQ_REUSED) so that it is not lost without a trace.
 */
export type AppendOutcome = 'new' | 'duplicate' | 'conflict';

/**
 * The store port. Every implementation passes test/ingest/store-contract.ts.
 *
 * `append` is the durability point: when its promise resolves, every reading passed in that it
 * reports `new` is durable (survives kill -9). It returns one AppendOutcome per input reading,
 * so redeliveries go no further and reused seqs are not dropped silently. Within one call, a
 * reading is judged against those before it as against stored ones. Telling a duplicate from
 * a conflict must cost nothing when there is neither: look the stored reading up only when the
 * key is already taken.
 */
export interface TelemetryStore {
  readonly name: string;
  append(readings: readonly Accepted[]): Promise<AppendOutcome[]>;
  range(deviceId: string, kind: Kind, q: RangeQuery): Promise<ReadingRow[]>;
  downsample(deviceId: string, kind: Kind, q: RangeQuery & { bucketMs: number }): Promise<BucketRow[]>;
  /** number of stored readings for a device (all devices without one) */
  count(deviceId?: string): Promise<number>;
  stats(): StoreStats;
  close(): Promise<void>;
}
