import { MAX_PAYLOAD_BYTES, type AnyReading } from '../ingest/readings.js';
import type { Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { DeviceLink, LinkCounters } from './device-link.js';
import { SimErrors } from './errors.js';
import type { Fleet, SimDevice } from './fleet.js';
import { FleetState } from './generator.js';
import { Rng } from './rng.js';
import { HOUR_MS } from './time.js';

export interface FleetRunnerOptions {
  fleet: Fleet;
  /** device id → secret it authenticates with */
  secrets: ReadonlyMap<string, string>;
  /** e.g. mqtt://127.0.0.1:1883 */
  brokerUrl: string;
  /** the simulation follows clock.now() (an AcceleratedClock in the demo) */
  clock: Clock;
  /** ms of wall time between ticks, default 250 */
  tickMs?: number;
  logger?: Logger;
  /** fraction of readings published twice, default 0 */
  duplicateRate?: number;
  /** fraction of readings swapped with the one before them, default 0 */
  outOfOrderRate?: number;
  /** devices whose connection is opened per tick, default 50: no CONNECT storm at start */
  connectBatch?: number;
  /** readings one device may hold before dropping its oldest, default 10 000 */
  maxBufferedPerDevice?: number;
  /** PUBLISH packets in flight per device, default 16 */
  window?: number;
  /** ms of simulated time generated per tick at most, default 6 h: a tick never blocks for long */
  maxSliceMs?: number;
  backoff?: BackoffOptions;
  /**
   * ms: the fleet's readings before this were published by an earlier run (a restart of the
   * demo): the simulation runs through them without publishing, so it continues with the same
   * registers and sequence numbers where that run left off
   */
  silentUntilMs?: number;
}

export interface FleetRunnerStats {
  devices: number;
  connected: number;
  /** readings generated so far */
  generated: number;
  /** PUBLISH packets sent (re-sends included) */
  published: number;
  /** PUBLISH packets acknowledged */
  acked: number;
  /** readings in acknowledged packets */
  ackedReadings: number;
  /** readings held by devices: queued, in flight or buffered while offline */
  buffered: number;
  /** reconnect attempts */
  reconnects: number;
  /** readings dropped by the per-device buffer limit */
  dropped: number;
  /** ms, simulated up to here */
  simulatedMs: number;
}

export interface FleetRunner {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): FleetRunnerStats;
}

/** RNG stream of transport effects (duplicates, reordering, backoff jitter), apart from the physics */
const TRANSPORT_STREAM = 3_000_000;

/**
 * Publishes a fleet's readings through one real mqtt.js client per device, following the
 * clock: each tick advances the simulation to clock.now() and sends what it produced.
 * A device in an `offline` fault holds its readings and backfills them as JSON arrays of ≤ 200
 * readings and within ingest's payload limit when back. Nothing happens before start(); close() is idempotent.
 */
export function createFleetRunner(opts: FleetRunnerOptions): FleetRunner {
  const { fleet, clock } = opts;
  const logger = opts.logger ?? silentLogger;
  const tickMs = opts.tickMs ?? 250;
  const connectBatch = opts.connectBatch ?? 50;
  const maxSliceMs = opts.maxSliceMs ?? 6 * HOUR_MS;
  const duplicateRate = opts.duplicateRate ?? 0;
  const outOfOrderRate = opts.outOfOrderRate ?? 0;
  const rng = new Rng(fleet.seed, TRANSPORT_STREAM);
  const random = (): number => rng.next();
  const counters = new LinkCounters();
  let state: FleetState | null = null;
  let links: DeviceLink[] = [];
  let timer: NodeJS.Timeout | null = null;
  let nextToConnect = 0;
  let generated = 0;
  let closed = false;
  let closing: Promise<void> | null = null;
  let backfilling: DeviceLink[] = [];

  const emit = (device: SimDevice, reading: AnyReading, trueMs: number): void => {
    generated++;
    const link = links[device.index] as DeviceLink;
    if (device.error.offlineAt(trueMs)) {
      if (!link.holding) backfilling.push(link);
      link.hold(reading);
      return;
    }
    // back in contact: what was held goes out before anything newer
    if (link.holding) link.backfill();
    const dup = duplicateRate > 0 && rng.next() < duplicateRate;
    const swap = outOfOrderRate > 0 && rng.next() < outOfOrderRate;
    link.push(reading, dup, swap);
  };

  const tick = (): void => {
    if (!state) return;
    const target = Math.min(clock.now(), state.cursorMs + maxSliceMs);
    if (target > state.cursorMs) state.advance(target, emit);
    if (backfilling.length > 0) {
      const still: DeviceLink[] = [];
      for (const link of backfilling) {
        if (!link.holding) continue;
        if (link.device.error.offlineAt(state.cursorMs)) still.push(link);
        else link.backfill();
      }
      backfilling = still;
    }
    const end = Math.min(links.length, nextToConnect + connectBatch);
    for (; nextToConnect < end; nextToConnect++) (links[nextToConnect] as DeviceLink).connect();
    for (const link of links) link.pump();
  };

  return {
    async start() {
      if (closed) throw SimErrors.make('SIM_RUNNER_CLOSED');
      if (state) return;
      state = new FleetState(fleet);
      if (opts.silentUntilMs !== undefined && opts.silentUntilMs > state.cursorMs) {
        state.advance(opts.silentUntilMs, () => {});
        logger.info({ resumedAt: new Date(opts.silentUntilMs).toISOString() }, 'fleet resumed where an earlier run left off');
      }
      links = fleet.devices.map(
        (d) =>
          new DeviceLink(d, {
            brokerUrl: opts.brokerUrl,
            secret: opts.secrets.get(d.id) ?? '',
            backoff: opts.backoff ?? DEFAULT_BACKOFF,
            maxBuffered: opts.maxBufferedPerDevice ?? 10_000,
            window: opts.window ?? 16,
            batchMax: 200,
            batchMaxBytes: MAX_PAYLOAD_BYTES,
            random,
            logger,
            counters,
          }),
      );
      for (const d of fleet.devices) if (!opts.secrets.has(d.id)) logger.warn({ device: d.id }, 'no secret for simulated device');
      timer = setInterval(tick, tickMs);
      tick();
      logger.info({ devices: links.length, brokerUrl: opts.brokerUrl }, 'fleet runner started');
    },
    close() {
      if (closing) return closing;
      closed = true;
      if (timer) clearInterval(timer);
      timer = null;
      closing = Promise.all(links.map((l) => l.close())).then(() => undefined);
      return closing;
    },
    stats() {
      let buffered = 0;
      for (const l of links) buffered += l.buffered;
      return {
        devices: fleet.devices.length,
        connected: counters.connected,
        generated,
        published: counters.published,
        acked: counters.acked,
        ackedReadings: counters.ackedReadings,
        buffered,
        reconnects: counters.reconnects,
        dropped: counters.dropped,
        simulatedMs: state?.cursorMs ?? fleet.startMs,
      };
    },
  };
}
