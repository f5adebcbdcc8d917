/**
 * Readings per second through ingest.accept() into the SQLite store, on a temporary file database
 * with the production durability setting (synchronous = FULL), printed as one JSON object.
 *
 *   npx driftwatch bench ingest [--devices 1000] [--messages 50] [--batch 1] [--window 1] [--synchronous FULL|NORMAL]
 *
 * Each simulated device keeps `window` messages unacknowledged at a time (the MQTT in-flight
 * window) and sends `messages` messages of `batch` readings each. Payloads are built before the
 * clock starts, so the figure is ingest's (parse, validate, commit), not JSON.stringify's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { systemClock } from '../lib/clock.js';
import { openDb } from '../lib/sqlite.js';
import type { Device } from '../registry/registry.js';
import { createIngest } from '../ingest/ingest.js';
import { SqliteTelemetryStore } from '../ingest/store/sqlite.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '1000' },
      messages: { type: 'string', default: '50' },
      batch: { type: 'string', default: '1' },
      window: { type: 'string', default: '1' },
      synchronous: { type: 'string', default: 'FULL' },
    },
  });
  const nDevices = Number(values.devices);
  const nMessages = Number(values.messages);
  const batch = Number(values.batch);
  const window = Number(values.window);
  const synchronous = values.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';

  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-'));
  const store = SqliteTelemetryStore.open({ file: join(dir, 'readings.db'), synchronous });
  const db = openDb(join(dir, 'platform.db'));
  const ingest = createIngest({ store, quarantineDb: db, clock: systemClock });
  ingest.start();
  let handedOn = 0;
  ingest.onAccepted((b) => (handedOn += b.length));

  const now = systemClock.now();
  const devices: Device[] = Array.from({ length: nDevices }, (_, i) => ({
    id: `bench-${i}`,
    kind: 'meter',
    model: 'bench',
    accuracyClass: '1',
    region: 'SH',
    site: `area-${i % 50}`,
    role: 'customer',
    installDate: '2024-01-01',
    params: {},
    status: 'active',
    createdAt: 0,
  }));
  // payloads[d][m]: message m of device d
  const payloads = devices.map((_, d) =>
    Array.from({ length: nMessages }, (_, m) => {
      const rs = Array.from({ length: batch }, (_, k) => {
        const seq = m * batch + k;
        return { ts: now - (nMessages * batch - seq) * 1000, seq, energyWh: 1e6 + seq * 10 + d, powerW: 500 + (seq % 100), voltageV: 230 };
      });
      return Buffer.from(JSON.stringify(batch === 1 ? rs[0] : rs));
    }),
  );

  const t0 = performance.now();
  await Promise.all(
    devices.map(async (dev, d) => {
      const topic = `devices/${dev.id}/readings`;
      const mine = payloads[d] ?? [];
      for (let m = 0; m < mine.length; m += window) {
        const inFlight: Promise<void>[] = [];
        for (let w = m; w < Math.min(m + window, mine.length); w++) inFlight.push(ingest.accept(dev, 'readings', topic, mine[w] as Buffer, systemClock.now()));
        await Promise.all(inFlight);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const stats = ingest.stats();
  await ingest.close();
  await store.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });

  const readings = nDevices * nMessages * batch;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ingest',
      store: 'sqlite',
      synchronous,
      devices: nDevices,
      messagesPerDevice: nMessages,
      readingsPerMessage: batch,
      window,
      readings,
      seconds: Number(seconds.toFixed(3)),
      readingsPerSecond: Math.round(readings / seconds),
      flushes: stats.flushes,
      meanReadingsPerFlush: Math.round(readings / Math.max(1, stats.flushes)),
      accepted: stats.accepted,
      handedOn,
      quarantined: Object.values(stats.quarantined).reduce((a, b) => a + b, 0),
    })}\n`,
  );
}

await main();
