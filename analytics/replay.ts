import type { Accepted } from '../ingest/readings.js';
import type { TelemetryStore } from '../ingest/store/port.js';
import type { Logger } from '../lib/log.js';
import type { Device } from '../registry/registry.js';
import type { Analytics } from './engine.js';

export interface WarmUpOptions {
  analytics: Analytics;
  store: TelemetryStore;
  devices: readonly Device[];
  /** ms, event time to replay from (the estimators' memory: older readings barely move them) */
  fromMs: number;
  toMs: number;
  logger: Logger;
  /** ms of event time handed to the engine at once */
  sliceMs?: number;
}

/**
 * Rebuilds the analytics state after a restart by replaying stored readings in event-time
 * order. The store is the checkpoint: everything acknowledged to a device is there, so nothing
 * the analytics saw before the restart is missing after it. Alerts and orders raised before the
 * restart are durable and are not raised again.
 */
export async function warmUp(o: WarmUpOptions): Promise<{ readings: number; ms: number }> {
  const t0 = Date.now();
  const all: Accepted[] = [];
  for (const d of o.devices) {
    const rows = await o.store.range(d.id, d.kind, { from: o.fromMs, to: o.toMs, limit: 1_000_000 });
    for (const r of rows) {
      all.push({ deviceId: d.id, kind: d.kind, region: d.region, site: d.site, ts: r.ts, seq: r.seq, receivedAt: r.receivedAt, fields: r.fields, events: r.events });
    }
  }
  all.sort((a, b) => a.receivedAt - b.receivedAt || a.ts - b.ts);
  const slice = o.sliceMs ?? 6 * 3_600_000;
  o.analytics.beginReplay();
  try {
    let i = 0;
    while (i < all.length) {
      const end = (all[i] as Accepted).receivedAt + slice;
      let j = i;
      while (j < all.length && (all[j] as Accepted).receivedAt < end) j++;
      o.analytics.ingest(all.slice(i, j));
      o.analytics.flush();
      i = j;
    }
  } finally {
    o.analytics.endReplay();
  }
  const ms = Date.now() - t0;
  o.logger.info({ readings: all.length, ms, devices: o.devices.length }, 'analytics warmed up from the store');
  return { readings: all.length, ms };
}
