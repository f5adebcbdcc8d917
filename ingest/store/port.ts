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
 * The store port. Every implementation passes test/ingest/store-contract.ts.
 *
 * `append` is the durability point: when its promise resolves, every reading passed in is
 * durable (survives kill -9). It returns, for each input reading, whether it was new (true)
 * or a duplicate of a stored (deviceId, seq) (false), so redeliveries go no further.
 */
export interface TelemetryStore {
  readonly name: string;
  append(readings: readonly Accepted[]): Promise<boolean[]>;
  range(deviceId: string, kind: Kind, q: RangeQuery): Promise<ReadingRow[]>;
  downsample(deviceId: string, kind: Kind, q: RangeQuery & { bucketMs: number }): Promise<BucketRow[]>;
  /** number of stored readings for a device (all devices without one) */
  count(deviceId?: string): Promise<number>;
  stats(): StoreStats;
  close(): Promise<void>;
}
