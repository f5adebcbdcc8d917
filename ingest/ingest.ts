import { performance } from 'node:perf_hooks';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';
import type { Db } from '../lib/sqlite.js';
import type { Device } from '../registry/registry.js';
import type { AcceptedListener, IngestSink } from './port.js';
import type { Accepted } from './readings.js';
import type { TelemetryStore } from './store/port.js';
import { IngestErrors, type RejectReason } from './errors.js';
import { createQuarantine, type Quarantine, type QuarantineEntry } from './quarantine.js';
import { DEFAULT_LIMITS, parseReadings, parseStatus, type IngestLimits } from './parse.js';
import { DeviceState, type DeviceHealth } from './device-health.js';

export interface IngestOptions {
  store: TelemetryStore;
  /** the database the quarantine table lives in (usually the platform database, not the store's) */
  quarantineDb: Db;
  clock: Clock;
  logger?: Logger;
  limits?: Partial<IngestLimits>;
  /** ms a message waits for others to share its commit */
  groupCommitMs?: number;
  /** readings pending that trigger a flush without waiting for groupCommitMs */
  maxBatch?: number;
  /** readings waiting (queued + in flight) above which ingest reports backpressure */
  maxPending?: number;
  /** rows the quarantine table keeps */
  quarantineMaxRows?: number;
  /** rows the quarantine table keeps per device, within quarantineMaxRows */
  quarantineMaxRowsPerDevice?: number;
}

export interface IngestStats {
  /** messages handed to accept() */
  messages: number;
  /** readings received: elements of batches, single readings, and messages rejected whole */
  received: number;
  /** new readings stored and passed on */
  accepted: number;
  /** readings the store already held (same device and seq, same ts and values): redeliveries */
  duplicates: number;
  /** quarantined readings per reason (those in the table at start plus those added since) */
  quarantined: Readonly<Record<RejectReason, number>>;
  /** readings waiting for or in a commit */
  pending: number;
  /** true while pending > maxPending */
  backpressure: boolean;
  /** times pending crossed maxPending */
  backpressureEvents: number;
  flushes: number;
  /** ms, duration of the last flush */
  lastFlushMs: number;
  /** readings whose commit failed (their messages were not acknowledged) */
  storeFailures: number;
  /** devices seen since start */
  devices: number;
  /** devices that sent at least one future timestamp */
  clockFlagged: number;
}

export interface Ingest extends IngestSink {
  start(): void;
  /** subscribes to new, deduplicated readings (one batch per commit); returns the unsubscriber */
  onAccepted(listener: AcceptedListener): () => void;
  /** What was quarantined, once it is stored (analytics raises data-quality alerts on bursts). */
  onQuarantined(listener: (rows: readonly QuarantineEntry[]) => void): () => void;
  stats(): IngestStats;
  deviceHealth(deviceId: string): DeviceHealth | null;
  /** the rejected readings, for the API */
  readonly quarantine: Pick<Quarantine, 'list' | 'counts'>;
  /** commits what is pending, then stops; the store is the caller's to close */
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  /** how many of the pending readings are this message's: they follow the previous waiter's */
  readings: number;
  hasRejects: boolean;
  topic: string;
}

/** largest number of seqs a reused-seq quarantine row's detail lists */
const MAX_SEQS_LISTED = 20;

/** JSON of a reading as the device sent it (fields flattened beside ts and seq). */
function readingJson(r: Accepted): string {
  return JSON.stringify({ ts: r.ts, seq: r.seq, ...r.fields, ...(r.events.length > 0 ? { events: r.events } : {}) });
}

/**
 * The quarantine row for one message's readings whose (device, seq) the store already holds with
 * a different reading: what a device that reset its counter sends. One row per message, like a
 * batch's rejected elements (parse.ts).
 */
function seqReused(reused: readonly Accepted[], topic: string): QuarantineEntry {
  const first = reused[0] as Accepted;
  const payload = reused.length === 1 ? readingJson(first) : `[${reused.map(readingJson).join(',')}]`;
  const seqs = reused.slice(0, MAX_SEQS_LISTED).map((r) => r.seq).join(', ') + (reused.length > MAX_SEQS_LISTED ? ', …' : '');
  return {
    deviceId: first.deviceId,
    region: first.region,
    topic,
    payload: Buffer.from(payload, 'utf8'),
    reason: 'ING_SEQ_REUSED',
    detail: `${reused.length === 1 ? 'seq' : `${reused.length} readings, seqs`} ${seqs}: already stored with a different ts or values; ${reused.length === 1 ? 'this reading was' : 'these readings were'} not stored`,
    receivedAt: first.receivedAt,
    readings: reused.length,
    site: first.site,
  };
}

/**
 * Validates, quarantines, deduplicates and stores readings, with group commit: accept() queues a
 * message's readings and quarantine rows and returns a promise; a flush runs when maxBatch
 * readings are pending or groupCommitMs after the first one, commits everything pending with
 * ONE store.append and ONE quarantine transaction, then settles every waiting promise. Only one
 * flush is in flight at a time; what arrives meanwhile forms the next one, so commit size grows
 * with load and the fsync cost is shared.
 *
 * Backpressure policy: accept() never drops or refuses a message while running. When the store is
 * slow and more than maxPending readings wait, stats().backpressure turns true and a warning is
 * logged once per episode. The queue is bounded in practice by the broker: a device gets no PUBACK
 * until its message is committed, and MQTT limits each client's unacknowledged QoS 1 messages
 * (Receive Maximum, MQTT 5.0 section 3.3.4), so the queue cannot exceed devices × window × batch.
 */
export function createIngest(options: IngestOptions): Ingest {
  const { store, clock } = options;
  const log = options.logger ?? silentLogger;
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const groupCommitMs = options.groupCommitMs ?? 2;
  const maxBatch = options.maxBatch ?? 1000;
  const maxPending = options.maxPending ?? 20_000;
  const quarantine = createQuarantine({
    db: options.quarantineDb,
    ...(options.quarantineMaxRows === undefined ? {} : { maxRows: options.quarantineMaxRows }),
    ...(options.quarantineMaxRowsPerDevice === undefined ? {} : { maxRowsPerDevice: options.quarantineMaxRowsPerDevice }),
  });

  const listeners = new Set<AcceptedListener>();
  const quarantineListeners = new Set<(rows: readonly QuarantineEntry[]) => void>();
  /** Stores quarantine rows, then tells the listeners; the error when the insert failed (their messages go unacknowledged). */
  const keep = (rows: readonly QuarantineEntry[]): Error | null => {
    if (rows.length === 0) return null;
    try {
      quarantine.add(rows);
    } catch (err) {
      log.error({ err, rows: rows.length }, 'quarantine insert failed');
      return IngestErrors.make('ING_STORE_FAILED', 'quarantine insert failed', err);
    }
    for (const l of quarantineListeners) {
      try {
        l(rows);
      } catch (err) {
        log.error({ err }, 'quarantine listener failed');
      }
    }
    return null;
  };
  const devices = new Map<string, DeviceState>();
  let state: 'new' | 'running' | 'closed' = 'new';
  let closing: Promise<void> | null = null;

  let readings: Accepted[] = [];
  let rejects: QuarantineEntry[] = [];
  let waiters: Waiter[] = [];
  let inFlight = 0;
  let flushing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const counters = { messages: 0, received: 0, accepted: 0, duplicates: 0, flushes: 0, lastFlushMs: 0, storeFailures: 0, backpressureEvents: 0 };
  let backpressure = false;

  function deviceState(id: string): DeviceState {
    let s = devices.get(id);
    if (!s) devices.set(id, (s = new DeviceState(id)));
    return s;
  }

  function checkBackpressure(): void {
    const over = readings.length + inFlight > maxPending;
    if (over && !backpressure) {
      counters.backpressureEvents++;
      log.warn({ pending: readings.length + inFlight, maxPending }, 'ingest backpressure: the store is not keeping up');
    }
    backpressure = over;
  }

  /** Starts the flush loop unless it runs; it commits until nothing is pending. */
  function kick(): Promise<void> {
    if (timer) (clearTimeout(timer), (timer = null));
    flushing ??= (async () => {
      try {
        // Back to back: what arrived during a flush has waited at least its duration already.
        while (readings.length > 0 || waiters.length > 0) await flushOnce();
      } catch (err) {
        // flushOnce settles its own failures; this is a bug guard, never a silent loss
        log.error({ err }, 'ingest flush loop failed');
      } finally {
        flushing = null;
      }
    })();
    return flushing;
  }

  function schedule(): void {
    if (flushing) return; // the running loop picks the new readings up
    if (readings.length >= maxBatch) void kick();
    else timer ??= setTimeout(kick, groupCommitMs);
  }

  async function flushOnce(): Promise<void> {
    const batch = readings;
    const rows = rejects;
    const ws = waiters;
    readings = [];
    rejects = [];
    waiters = [];
    inFlight = batch.length;
    const t0 = performance.now(); // duration, not event time: the monotonic clock is right here

    const quarantineError = keep(rows);

    let storeError: Error | null = null;
    let fresh: Accepted[] = [];
    /** the waiters whose messages reused a seq, and the quarantine rows for those readings */
    const reusedBy = new Set<Waiter>();
    const reusedRows: QuarantineEntry[] = [];
    if (batch.length > 0) {
      try {
        const outcomes = await store.append(batch);
        if (outcomes.length !== batch.length) throw new Error(`store returned ${outcomes.length} outcomes for ${batch.length} readings`);
        let duplicates = 0;
        let at = 0;
        for (const w of ws) {
          let reused: Accepted[] | null = null;
          for (const end = at + w.readings; at < end; at++) {
            const r = batch[at] as Accepted;
            const o = outcomes[at];
            if (o === 'new') fresh.push(r);
            else if (o === 'duplicate') duplicates++;
            else (reused ??= []).push(r);
          }
          if (reused) (reusedBy.add(w), reusedRows.push(seqReused(reused, w.topic)));
        }
        counters.duplicates += duplicates;
        counters.accepted += fresh.length;
      } catch (err) {
        storeError = IngestErrors.make('ING_STORE_FAILED', `${batch.length} readings`, err);
        counters.storeFailures += batch.length;
        fresh = [];
        reusedBy.clear();
        reusedRows.length = 0;
        log.error({ err, readings: batch.length }, 'store append failed; messages are not acknowledged');
      }
    }

    // Rare (a device reused a seq), so a second quarantine transaction then rather than a lookup
    // before the store on every flush. If it fails, those messages go unacknowledged and their
    // redelivery is judged again.
    const reusedError = keep(reusedRows);

    counters.flushes++;
    counters.lastFlushMs = performance.now() - t0;
    inFlight = 0;

    for (const w of ws) {
      if (storeError && w.readings > 0) w.reject(storeError);
      else if (quarantineError && w.hasRejects) w.reject(quarantineError);
      else if (reusedError && reusedBy.has(w)) w.reject(reusedError);
      else w.resolve();
    }
    if (fresh.length > 0) {
      for (const l of listeners) {
        try {
          l(fresh);
        } catch (err) {
          log.error({ err }, 'accepted-readings listener threw');
        }
      }
    }

    checkBackpressure();
  }

  function enqueue(topic: string, accepted: Accepted[], rejected: QuarantineEntry[]): Promise<void> {
    if (accepted.length === 0 && rejected.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      for (const a of accepted) readings.push(a);
      for (const r of rejected) rejects.push(r);
      waiters.push({ resolve, reject, readings: accepted.length, hasRejects: rejected.length > 0, topic });
      checkBackpressure();
      schedule();
    });
  }

  function accept(device: Device, channel: 'readings' | 'status', topic: string, payload: Buffer, receivedAt: number): Promise<void> {
    if (state !== 'running' || closing) return Promise.reject(IngestErrors.make('ING_NOT_RUNNING'));
    counters.messages++;
    const ds = deviceState(device.id);
    if (channel === 'status') {
      const s = parseStatus(payload, limits);
      if (s.ok) {
        ds.status = s.status;
        ds.statusAt = receivedAt;
        return Promise.resolve();
      }
      return enqueue(topic, [], [{ deviceId: device.id, region: device.region, topic, payload, reason: s.reason, detail: s.detail, receivedAt, site: device.site }]);
    }
    const parsed = parseReadings(device, topic, payload, receivedAt, clock.now(), limits, ds);
    counters.received += parsed.accepted.length;
    for (const r of parsed.rejected) counters.received += r.readings ?? 1;
    return enqueue(topic, parsed.accepted, parsed.rejected);
  }

  return {
    accept,
    start() {
      if (state !== 'new') return;
      quarantine.start();
      state = 'running';
    },
    onAccepted(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    onQuarantined(listener) {
      quarantineListeners.add(listener);
      return () => void quarantineListeners.delete(listener);
    },
    stats() {
      let clockFlagged = 0;
      for (const d of devices.values()) if (d.futureTs > 0) clockFlagged++;
      return {
        ...counters,
        quarantined: { ...quarantine.counts() },
        pending: readings.length + inFlight,
        backpressure,
        devices: devices.size,
        clockFlagged,
      };
    },
    deviceHealth(id) {
      return devices.get(id)?.snapshot() ?? null;
    },
    quarantine: { list: (q) => quarantine.list(q), counts: () => quarantine.counts() },
    close() {
      closing ??= (async () => {
        if (state === 'running') {
          while (flushing || readings.length > 0 || waiters.length > 0) await kick();
        }
        if (timer) (clearTimeout(timer), (timer = null));
        state = 'closed';
        listeners.clear();
        quarantine.close();
      })();
      return closing;
    },
  };
}
