import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IngestSink } from '../../ingest/port.js';
import { openDb } from '../../lib/sqlite.js';
import { Registry, type Device } from '../../registry/registry.js';

export interface Received {
  deviceId: string;
  channel: 'readings' | 'status';
  topic: string;
  payload: Buffer;
  receivedAt: number;
  /** ms (wall clock) when accept() resolved */
  resolvedAt: number;
}

/**
 * The ingest seam: records what it was handed, optionally after a delay, and fails on demand
 * the way a store failure makes the real ingest reject.
 */
export class RecordingSink implements IngestSink {
  readonly got: Received[] = [];
  delayMs = 0;
  /** the next this-many accept() calls reject */
  failNext = 0;
  calls = 0;

  async accept(device: Device, channel: 'readings' | 'status', topic: string, payload: Buffer, receivedAt: number): Promise<void> {
    this.calls++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store is down');
    }
    this.got.push({ deviceId: device.id, channel, topic, payload, receivedAt, resolvedAt: Date.now() });
  }
}

const meter = (id: string) => ({
  id, kind: 'meter', model: 'DDZY-1', accuracyClass: '2', region: 'SH', site: 'SH-A001', role: 'customer', installDate: '2022-05-01',
});

/** A real registry in memory with two devices. */
export function registryWithDevices(): { registry: Registry; a: { id: string; secret: string }; b: { id: string; secret: string } } {
  const registry = new Registry(openDb(':memory:'));
  const a = registry.addDevice(meter('SH-A001-M001'));
  const b = registry.addDevice(meter('SH-A001-M002'));
  return { registry, a: { id: a.device.id, secret: a.secret }, b: { id: b.device.id, secret: b.secret } };
}

/** Connects an mqtt.js client (MQTT 3.1.1, no reconnection); resolves on CONNACK 0, rejects with the error otherwise. */
export function connect(port: number, opts: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
    // a connection closed before any CONNACK (e.g. at the connection cap) emits no error
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}

/** Resolves when the client's connection closes, or to 'open' after `ms`. */
export function closedWithin(c: MqttClient, ms: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    if (c.stream.destroyed) return resolve('closed');
    const t = setTimeout(() => resolve('open'), ms);
    c.stream.once('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An MQTT fixed header (MQTT 3.1.1, 2.2) announcing `remaining` bytes. */
export function fixedHeader(type: number, remaining: number): Buffer {
  const len: number[] = [];
  let x = remaining;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    len.push(byte);
  } while (x > 0);
  return Buffer.from([type, ...len]);
}
