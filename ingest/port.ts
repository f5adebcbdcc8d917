import type { Device } from '../registry/registry.js';
import type { Accepted } from './readings.js';

/** What the broker (embedded or an external one's consumer) hands every PUBLISH of a device to. */
export interface IngestSink {
  /**
   * Handles one message of an authenticated device on one of its own topics.
   * Resolves once every reading in it is durable or quarantined: only then may the broker
   * send PUBACK. Never rejects for bad payloads (those are quarantined); rejects only when
   * the store itself failed, in which case the message must not be acknowledged.
   */
  accept(device: Device, channel: 'readings' | 'status', topic: string, payload: Buffer, receivedAt: number): Promise<void>;
}

/** Downstream consumers (analytics) get each new, deduplicated reading once, in batches. */
export type AcceptedListener = (batch: readonly Accepted[]) => void;
