import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry as PromRegistry } from 'prom-client';
import type { MetricsSnapshot } from './types.js';

/** s: HTTP latency buckets from 1 ms to 10 s; the API's answers are mostly well under 100 ms */
export const HTTP_BUCKETS_S: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * Prometheus metrics in a registry of the dashboard's own (never prom-client's global one, so two
 * dashboards in one process — tests — do not collide). The parts keep their own totals; at scrape
 * time the snapshot is read once and the counters advanced by what changed since the last scrape,
 * so they keep counter semantics (monotonic, `_total`) as the exposition format asks.
 */
export function createMetrics(snapshot: (() => MetricsSnapshot) | undefined) {
  const registry = new PromRegistry();
  const http = new Histogram({
    name: 'driftwatch_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [...HTTP_BUCKETS_S],
    registers: [registry],
  });

  if (snapshot) {
    const last = new Map<string, number>();
    const advance = <L extends string>(c: Counter<L>, key: string, value: number, labels: Partial<Record<L, string>>) => {
      const prev = last.get(key) ?? 0;
      // A total that went down belongs to a restarted part: count from its new value.
      const delta = value >= prev ? value - prev : value;
      if (delta > 0) c.inc(labels, delta);
      last.set(key, value);
    };
    // One collect hook, on the first series registered, reads the snapshot once per scrape and
    // sets every series; prom-client collects in registration order.
    const readings: Counter<'outcome'> = new Counter({
      name: 'driftwatch_ingest_readings_total',
      help: 'readings by outcome: received, accepted (new), duplicate',
      labelNames: ['outcome'] as const,
      registers: [registry],
      collect() {
        const s = snapshot();
        advance(readings, 'received', s.received, { outcome: 'received' });
        advance(readings, 'accepted', s.accepted, { outcome: 'accepted' });
        advance(readings, 'duplicate', s.duplicates, { outcome: 'duplicate' });
        for (const [reason, n] of Object.entries(s.quarantined)) advance(quarantined, `q:${reason}`, n, { reason });
        backlog.set({ stage: 'ingest' }, s.ingestPending);
        backlog.set({ stage: 'store' }, s.storePending);
        mqtt.set(s.mqttConnections);
        lag.set(s.analyticsLagMs / 1000);
      },
    });
    const quarantined = new Counter({ name: 'driftwatch_ingest_quarantined_total', help: 'quarantined messages by reason code', labelNames: ['reason'] as const, registers: [registry] });
    const backlog = new Gauge({ name: 'driftwatch_backlog_readings', help: 'readings waiting: in ingest for a commit, or in the store for a remote confirmation', labelNames: ['stage'] as const, registers: [registry] });
    const mqtt = new Gauge({ name: 'driftwatch_mqtt_connections', help: 'open MQTT connections', registers: [registry] });
    const lag = new Gauge({ name: 'driftwatch_analytics_lag_seconds', help: 'platform time minus the oldest site watermark', registers: [registry] });
  }

  return {
    registry,
    /** Times every request and serves GET /metrics (public: counters only, nothing per region or device). */
    install(app: FastifyInstance): void {
      app.addHook('onResponse', async (request, reply) => {
        // the route pattern, not the URL, so device ids do not explode the label set
        const route = request.routeOptions.url ?? 'unmatched';
        http.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      });
      app.get('/metrics', { config: { public: true }, schema: { tags: ['operations'], summary: 'Prometheus text exposition' } }, async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      });
    },
  };
}
