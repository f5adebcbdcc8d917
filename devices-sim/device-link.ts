import mqtt, { type MqttClient } from 'mqtt';
import type { AnyReading } from '../ingest/readings.js';
import type { Logger } from '../lib/log.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { SimDevice } from './fleet.js';

/**
 * One MQTT message waiting to go out: a single reading, or a JSON array batch. Serialised when
 * sent, so the buffer limit can drop the oldest readings out of a batch one by one.
 */
interface Outbound {
  readonly items: AnyReading[];
  readonly batch: boolean;
}

/** Counters shared by all links of a runner. */
export class LinkCounters {
  connected = 0;
  /** PUBLISH packets sent, re-sends after a reconnect included */
  published = 0;
  /** PUBLISH packets acknowledged (PUBACK) */
  acked = 0;
  /** readings in acknowledged packets */
  ackedReadings = 0;
  /** reconnect attempts */
  reconnects = 0;
  /** readings dropped by the per-device buffer limit */
  dropped = 0;
}

export interface LinkOptions {
  brokerUrl: string;
  secret: string;
  backoff: BackoffOptions;
  /** readings a device holds (queued, in flight and offline-buffered) before dropping the oldest */
  maxBuffered: number;
  /** PUBLISH packets in flight (sent, not yet acknowledged) per device */
  window: number;
  /** readings per backfill message (JSON array) */
  batchMax: number;
  /** bytes per backfill message at most: the platform's payload limit, which a device must respect */
  batchMaxBytes: number;
  random: () => number;
  logger: Logger;
  counters: LinkCounters;
}

/**
 * One device's connection: an mqtt.js client (MQTT 3.1.1, QoS 1) with its own reconnect loop,
 * since the client's is switched off (`reconnectPeriod: 0`) for exponential backoff with jitter,
 * and an outbound queue with a hard limit.
 *
 * Buffer policy: when a device holds more than `maxBuffered` readings (broker down, device
 * offline), the oldest are dropped, counted in `dropped` and logged once per overflow episode,
 * as a real meter's ring buffer overwrites its oldest records.
 * Unacknowledged packets are re-sent after a reconnect: ingest deduplicates on (device, seq).
 */
export class DeviceLink {
  readonly device: SimDevice;
  readonly #topic: string;
  readonly #opts: LinkOptions;
  readonly #queue: Outbound[] = [];
  readonly #inflight = new Set<Outbound>();
  readonly #offline: AnyReading[] = [];
  #buffered = 0;
  #client: MqttClient | null = null;
  #generation = 0;
  #connected = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #overflowing = false;

  constructor(device: SimDevice, opts: LinkOptions) {
    this.device = device;
    this.#topic = `devices/${device.id}/readings`;
    this.#opts = opts;
  }

  /** readings held: queued, in flight and offline-buffered */
  get buffered(): number {
    return this.#buffered;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get started(): boolean {
    return this.#generation > 0;
  }

  /** Queues one reading; `duplicate` queues it twice, `swap` puts it before the previous unsent one. */
  push(reading: AnyReading, duplicate: boolean, swap: boolean): void {
    const o: Outbound = { items: [reading], batch: false };
    const q = this.#queue;
    const last = q.length > 0 ? q[q.length - 1] : undefined;
    if (swap && last !== undefined && !last.batch) q.splice(q.length - 1, 0, o);
    else q.push(o);
    this.#buffered++;
    if (duplicate) {
      q.push({ items: [reading], batch: false });
      this.#buffered++;
    }
    this.#limit();
  }

  /** Holds a reading taken while the device is out of contact. */
  hold(reading: AnyReading): void {
    this.#offline.push(reading);
    this.#buffered++;
    this.#limit();
  }

  get holding(): boolean {
    return this.#offline.length > 0;
  }

  /** Back in contact: queues the held readings as JSON arrays of at most batchMax readings and batchMaxBytes bytes. */
  backfill(): void {
    const held = this.#offline;
    const max = this.#opts.batchMax;
    const maxBytes = this.#opts.batchMaxBytes;
    let items: AnyReading[] = [];
    // "[" and "]", and a comma before every item but the first
    let bytes = 2;
    for (const r of held) {
      const size = Buffer.byteLength(JSON.stringify(r));
      if (items.length > 0 && (items.length >= max || bytes + 1 + size > maxBytes)) {
        this.#queue.push({ items, batch: true });
        items = [];
        bytes = 2;
      }
      bytes += size + (items.length > 0 ? 1 : 0);
      items.push(r);
    }
    if (items.length > 0) this.#queue.push({ items, batch: true });
    held.length = 0;
  }

  #limit(): void {
    const max = this.#opts.maxBuffered;
    if (this.#buffered <= max) {
      this.#overflowing = false;
      return;
    }
    let dropped = 0;
    // oldest first: held readings are older than anything queued after the outage began
    while (this.#buffered > max && this.#offline.length > 0) {
      this.#offline.shift();
      this.#buffered--;
      dropped++;
    }
    while (this.#buffered > max && this.#queue.length > 0) {
      const head = this.#queue[0] as Outbound;
      const excess = this.#buffered - max;
      if (head.items.length > excess) {
        head.items.splice(0, excess);
        this.#buffered -= excess;
        dropped += excess;
      } else {
        this.#queue.shift();
        this.#buffered -= head.items.length;
        dropped += head.items.length;
      }
    }
    this.#opts.counters.dropped += dropped;
    if (!this.#overflowing) {
      this.#overflowing = true;
      this.#opts.logger.warn({ device: this.device.id, maxBuffered: max }, 'device buffer full: dropping oldest readings');
    }
  }

  connect(): void {
    if (this.#closed) return;
    this.#timer = null;
    const generation = ++this.#generation;
    const id = this.device.id;
    const client = mqtt.connect(this.#opts.brokerUrl, {
      protocolVersion: 4,
      clientId: id,
      username: id,
      password: this.#opts.secret,
      clean: true,
      keepalive: 60,
      connectTimeout: 10_000,
      reconnectPeriod: 0,
    });
    this.#client = client;
    client.on('connect', () => {
      if (generation !== this.#generation) return;
      this.#connected = true;
      this.#attempt = 0;
      this.#opts.counters.connected++;
      this.pump();
    });
    client.on('error', (err) => {
      this.#opts.logger.debug({ device: id, err: err.message }, 'device connection error');
    });
    client.on('close', () => {
      if (generation !== this.#generation) return;
      this.#lost();
    });
  }

  #lost(): void {
    if (this.#connected) {
      this.#connected = false;
      this.#opts.counters.connected--;
    }
    // unacknowledged packets go back to the front, in their original order
    if (this.#inflight.size > 0) {
      this.#queue.unshift(...this.#inflight);
      this.#inflight.clear();
    }
    const old = this.#client;
    this.#client = null;
    old?.removeAllListeners('close');
    old?.end(true);
    if (this.#closed) return;
    const delay = backoffDelay(this.#attempt++, this.#opts.backoff, this.#opts.random);
    this.#opts.counters.reconnects++;
    this.#timer = setTimeout(() => this.connect(), delay);
  }

  /** Sends queued packets while the in-flight window allows. */
  pump(): void {
    const client = this.#client;
    if (!this.#connected || client === null) return;
    const generation = this.#generation;
    const c = this.#opts.counters;
    while (this.#inflight.size < this.#opts.window && this.#queue.length > 0) {
      const o = this.#queue.shift() as Outbound;
      this.#inflight.add(o);
      c.published++;
      const payload = o.batch ? JSON.stringify(o.items) : JSON.stringify(o.items[0]);
      client.publish(this.#topic, payload, { qos: 1 }, (err) => {
        // a stale or failed send is re-queued by the close handler
        if (err || generation !== this.#generation || !this.#inflight.delete(o)) return;
        this.#buffered -= o.items.length;
        c.acked++;
        c.ackedReadings += o.items.length;
        if (this.#buffered <= this.#opts.maxBuffered) this.#overflowing = false;
        this.pump();
      });
    }
  }

  /** Ends the connection now; idempotent. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#connected) {
      this.#connected = false;
      this.#opts.counters.connected--;
    }
    const client = this.#client;
    this.#client = null;
    this.#generation++;
    if (!client) return Promise.resolve();
    return new Promise((resolve) => client.end(true, () => resolve()));
  }
}
