import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { IngestSink } from '../ingest/port.js';
import type { Device } from '../registry/registry.js';
import { BrokerErrors } from './errors.js';
import { Inflight } from './inflight.js';
import { parseDeviceTopic, READINGS_FILTER, STATUS_FILTER, type Channel } from './topics.js';

export interface ExternalSourceOptions {
  /** e.g. mqtt://mqtt.example.net:1883 */
  url: string;
  username?: string;
  password?: string;
  /** fixed, so the external broker keeps this consumer's session (and its unacknowledged messages) */
  clientId: string;
  /** registry lookup of a device named in a topic */
  getDevice(id: string): Device | null;
  ingest: IngestSink;
  clock?: Clock;
  logger?: Logger;
  /** ms between reconnection attempts */
  reconnectPeriodMs?: number;
}

export interface ExternalSourceStats {
  connected: boolean;
  /** messages ingest accepted, by channel */
  received: Record<Channel, number>;
  /** messages naming a device the registry does not know or that is not active; acknowledged and dropped */
  unknownDevice: number;
  /** messages ingest failed to store; left unacknowledged for the external broker to redeliver */
  ingestFailures: number;
}

export interface ExternalSource {
  /** Connects and subscribes; rejects if the first connection attempt fails. */
  start(): Promise<void>;
  stats(): ExternalSourceStats;
  /** Stops taking messages, waits for those being ingested, disconnects. Idempotent. */
  close(): Promise<void>;
}

/**
 * Consumes device messages from a broker the operator runs (Mosquitto, EMQX…) instead of the
 * embedded one. That broker authenticates devices and must confine each to its own topics with
 * its ACL; here the device is only looked up by the id in the topic.
 *
 * At-least-once end to end: the session is persistent (clean: false, fixed client id, QoS 1
 * subscriptions), and mqtt.js sends PUBACK only after `handleMessage` calls back
 * (mqtt 5 lib/handlers/publish.js), which happens once ingest.accept resolved. When ingest fails
 * the connection is dropped without PUBACK; the external broker redelivers the message after
 * the reconnection (MQTT 3.1.1, 4.4) and ingest drops the duplicate by (device, seq).
 */
export function createExternalSource(opts: ExternalSourceOptions): ExternalSource {
  const logger = opts.logger ?? silentLogger;
  const clock = opts.clock ?? systemClock;
  const inflight = new Inflight();
  const counts = { readings: 0, status: 0, unknownDevice: 0, ingestFailures: 0 };
  let client: MqttClient | null = null;
  let closing: Promise<void> | null = null;

  function handleMessage(c: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    // Once closing, take nothing more and acknowledge nothing: the broker keeps it for next time.
    if (closing !== null) return;
    const parsed = parseDeviceTopic(packet.topic);
    const device = parsed === null ? null : opts.getDevice(parsed.deviceId);
    if (parsed === null || device === null || device.status !== 'active') {
      // Nothing to retry: acknowledge, so it does not come back forever.
      counts.unknownDevice++;
      logger.warn({ code: 'BRK_EXTERNAL_UNKNOWN_DEVICE', topic: packet.topic, deviceStatus: device?.status }, 'message dropped');
      done();
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    inflight.enter();
    opts.ingest.accept(device, parsed.channel, packet.topic, payload, clock.now()).then(
      () => {
        inflight.leave();
        counts[parsed.channel]++;
        done();
      },
      (err: unknown) => {
        inflight.leave();
        counts.ingestFailures++;
        logger.error({ code: 'BRK_INGEST_FAILED', deviceId: device.id, topic: packet.topic, err }, 'ingest failed; reconnecting for redelivery');
        // Calling done(err) would error mqtt.js's internal parser stream; ending the transport
        // instead is an ordinary connection loss, after which mqtt.js reconnects.
        c.stream.destroy();
      },
    );
  }

  function start(): Promise<void> {
    if (closing !== null) return Promise.reject(BrokerErrors.make('BRK_NOT_STARTED'));
    if (client !== null) return Promise.resolve();
    const c = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: opts.reconnectPeriodMs ?? 1000,
      ...(opts.username === undefined ? {} : { username: opts.username }),
      ...(opts.password === undefined ? {} : { password: opts.password }),
    });
    client = c;
    // assigned before the connection opens, so no message of the resumed session misses it
    c.handleMessage = (packet, done) => handleMessage(c, packet, done);

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        client = null;
        c.end(true);
        reject(err);
      };
      c.on('connect', (connack) => {
        logger.info({ url: redact(opts.url), sessionPresent: connack.sessionPresent }, 'connected to external broker');
        // mqtt.js 5 fails the callback when the SUBACK holds 0x80 for any filter
        c.subscribe([READINGS_FILTER, STATUS_FILTER], { qos: 1 }, (err) => {
          if (err) {
            logger.error({ err }, 'external broker refused the subscriptions');
            fail(err);
            return;
          }
          settled = true;
          resolve();
        });
      });
      c.on('error', (err) => {
        logger.error({ err }, 'external broker connection error');
        fail(err);
      });
      c.on('offline', () => logger.warn({ url: redact(opts.url) }, 'external broker offline'));
    });
  }

  async function shutdown(): Promise<void> {
    if (client === null) return;
    await inflight.idle();
    const c = client;
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
  }

  return {
    start,
    stats: () => ({
      connected: client?.connected ?? false,
      received: { readings: counts.readings, status: counts.status },
      unknownDevice: counts.unknownDevice,
      ingestFailures: counts.ingestFailures,
    }),
    close: () => (closing ??= shutdown()),
  };
}

/** The URL without credentials, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
