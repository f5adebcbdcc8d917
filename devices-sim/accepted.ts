import type { Accepted, AnyReading } from '../ingest/readings.js';
import type { SimDevice } from './fleet.js';

const NO_EVENTS: string[] = [];

/**
 * A simulated reading as ingest would hand it on (in-process runs skip the network): numeric
 * fields gathered, the broker's receive time set to the true time of the reading.
 */
export function toAccepted(d: SimDevice, r: AnyReading, trueMs: number): Accepted {
  const fields: Record<string, number> = {};
  let events = NO_EVENTS;
  const rec = r as unknown as Record<string, number | string[]>;
  for (const k in rec) {
    if (k === 'ts' || k === 'seq') continue;
    const v = rec[k] as number | string[];
    if (k === 'events') events = v as string[];
    else fields[k] = v as number;
  }
  return { deviceId: d.id, kind: d.kind, region: d.record.region, site: d.site, ts: r.ts, seq: r.seq, receivedAt: trueMs, fields, events };
}
