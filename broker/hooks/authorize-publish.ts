import type { AedesOptions, Client, PublishPacket } from 'aedes';
import type { Clock } from '../../lib/clock.js';
import type { IngestSink } from '../../ingest/port.js';
import { BrokerErrors } from '../errors.js';
import type { Inflight } from '../inflight.js';
import { isAlertTopic, isCommandTopic, type Channel } from '../topics.js';
import { who, type HookContext } from './context.js';

type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;

export interface PublishDeps {
  ingest: IngestSink;
  clock: Clock;
  inflight: Inflight;
  /** bytes; larger payloads are counted here and still handed to ingest, which quarantines them */
  maxPayloadBytes: number;
}

/**
 * The hook where a device's message becomes durable before it is acknowledged.
 *
 * aedes 1.2 (lib/handlers/publish.js) runs authorizePublish, and only after its callback writes
 * PUBACK (QoS 1) or stores the packet for PUBREC (QoS 2); the `published` hook runs after the
 * PUBACK is written and is too late. So for an allowed topic the hook awaits ingest.accept and
 * only then calls back: PUBACK means "stored or quarantined" (MQTT 3.1.1, 4.3.2: the receiver
 * owns the message once it has sent PUBACK).
 *
 * Outcomes:
 * - a topic the client may not publish to: callback with BRK_TOPIC_DENIED; aedes closes the
 *   connection without PUBACK. Counted and logged with the client and topic.
 * - a payload over maxPayloadBytes: not an error. Refusing it would close the connection and the
 *   device would resend it forever; ingest stores it in quarantine with ING_PAYLOAD_OVERSIZE.
 *   (Packets over the hard ceiling never get here: frame-guard.ts drops those connections.)
 * - ingest.accept rejects (the store failed): callback with BRK_INGEST_FAILED, so no PUBACK is
 *   sent, aedes closes the connection and the device resends after reconnecting.
 * - a client whose credentials were withdrawn while it was connected (identity `revoked`):
 *   callback with BRK_CLIENT_REVOKED. This is how its will is refused: aedes publishes the will
 *   as it closes the connection, after the withdrawal.
 *
 * Devices cannot retain: aedes keeps retained messages in memory for the life of the broker,
 * and the platform's state of a device lives in ingest, not in the broker.
 *
 * Devices cannot publish with QoS 2 (they publish with QoS 0 or 1 by design): callback with
 * BRK_QOS_REFUSED, so aedes closes the connection before it stores anything. aedes keeps each
 * QoS 2 PUBLISH in memory until the client's PUBREL; its own bound on those (maxInflightInbound)
 * counts per connection, but a persistent session keeps the stored ones across reconnects, so a
 * device that never sent PUBREL could pile up one per message id, 65,535 of them, each as large
 * as the packet ceiling. A device's will may still carry QoS 2: the broker publishes a will
 * itself, nothing waits for a PUBREL.
 *
 * Backpressure: aedes handles the packets of one socket read concurrently and reads no more from
 * that client until all of them are called back, so each client has at most one read's worth of
 * messages in ingest at a time.
 */
export function createAuthorizePublish(ctx: HookContext, deps: PublishDeps): AuthorizePublish {
  const { identities, stats, logger } = ctx;
  const { ingest, clock, inflight, maxPayloadBytes } = deps;

  const deny = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void => {
    stats.deniedPublish++;
    const identity = client === null ? undefined : identities.get(client);
    logger.warn({ code: 'BRK_TOPIC_DENIED', ...who(identity), topic: packet.topic }, 'publish denied');
    callback(BrokerErrors.make('BRK_TOPIC_DENIED', packet.topic));
  };

  return function authorizePublish(client, packet, callback) {
    // client is null only for wills aedes replays from persistence of a broker that died
    const identity = client === null ? undefined : identities.get(client);
    if (identity === undefined) return deny(client, packet, callback);
    if (identity.kind === 'revoked') {
      stats.revokedPublish++;
      logger.info({ code: 'BRK_CLIENT_REVOKED', ...who(identity), topic: packet.topic }, 'message of a client whose credentials were withdrawn refused');
      return callback(BrokerErrors.make('BRK_CLIENT_REVOKED', packet.topic));
    }

    if (identity.kind === 'service') {
      if (isAlertTopic(packet.topic) || isCommandTopic(packet.topic)) return callback(null);
      return deny(client, packet, callback);
    }

    const { device, topics } = identity;
    // a will is the CONNECT's will object, not a PUBLISH packet, and has no cmd
    if (packet.qos === 2 && packet.cmd === 'publish') {
      stats.qos2Refused++;
      logger.warn({ code: 'BRK_QOS_REFUSED', deviceId: device.id, topic: packet.topic }, 'QoS 2 publish refused');
      return callback(BrokerErrors.make('BRK_QOS_REFUSED', device.id));
    }
    let channel: Channel;
    if (packet.topic === topics.readings) channel = 'readings';
    else if (packet.topic === topics.status) channel = 'status';
    else return deny(client, packet, callback);

    packet.retain = false;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    if (payload.length > maxPayloadBytes) {
      stats.oversizePayloads++;
      logger.debug({ deviceId: device.id, topic: packet.topic, bytes: payload.length }, 'oversize payload handed to ingest for quarantine');
    }

    inflight.enter();
    ingest.accept(device, channel, packet.topic, payload, clock.now()).then(
      () => {
        inflight.leave();
        if (channel === 'readings') stats.readings++;
        else stats.status++;
        callback(null);
      },
      (err: unknown) => {
        inflight.leave();
        stats.ingestFailures++;
        logger.error({ code: 'BRK_INGEST_FAILED', deviceId: device.id, topic: packet.topic, err }, 'ingest failed; message not acknowledged');
        callback(BrokerErrors.make('BRK_INGEST_FAILED', device.id, err));
      },
    );
  };
}
