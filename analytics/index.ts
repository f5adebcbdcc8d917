import type { Accepted } from '../ingest/readings.js';
import type { Clock } from '../lib/clock.js';

/** Per-site progress: analytics works on a whole site (transformer area, station, market) at once. */
interface SiteProgress {
  readings: number;
  /** ms, newest event time seen */
  watermark: number;
}

export interface AnalyticsStats {
  sites: number;
  readings: number;
  /** ms, platform time minus the oldest site watermark: how far the slowest site lags */
  lagMs: number;
}

export interface AnalyticsOptions {
  clock: Clock;
}

/**
 * The analytics stage, fed with deduplicated readings partitioned by site.
 * Today it tracks per-site event-time progress; the estimators attach here.
 */
export function createAnalytics(opts: AnalyticsOptions) {
  const sites = new Map<string, SiteProgress>();
  let readings = 0;
  return {
    /** Folds one batch of new readings in (they arrive in receive order, not event order). */
    ingest(batch: readonly Accepted[]): void {
      for (const r of batch) {
        let s = sites.get(r.site);
        if (!s) sites.set(r.site, (s = { readings: 0, watermark: 0 }));
        s.readings++;
        if (r.ts > s.watermark) s.watermark = r.ts;
      }
      readings += batch.length;
    },
    stats(): AnalyticsStats {
      let oldest = Infinity;
      for (const s of sites.values()) oldest = Math.min(oldest, s.watermark);
      return { sites: sites.size, readings, lagMs: sites.size ? Math.max(0, opts.clock.now() - oldest) : 0 };
    },
    async close(): Promise<void> {},
  };
}
export type Analytics = ReturnType<typeof createAnalytics>;
