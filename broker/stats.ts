import type { Channel } from './topics.js';

/** Counters since start (connections is current). Every refusal the broker makes is counted here. */
export interface BrokerStats {
  /** open MQTT connections, authenticated or still connecting */
  connections: number;
  /** CONNECTs refused: bad credentials, client id mismatch, registry failure, connection caps, failed-login throttle */
  connectsRefused: number;
  /** of connectsRefused, connections refused because their remote address was at its cap */
  addressRefused: number;
  /** of connectsRefused, CONNECTs refused unchecked because their address had too many failed logins */
  authThrottled: number;
  /** PUBLISHes to a topic the client may not publish to (each closed the connection) */
  deniedPublish: number;
  /** QoS 2 PUBLISHes of devices refused (each closed the connection) */
  qos2Refused: number;
  /** messages, wills included, refused because the client's credentials were withdrawn while it was connected */
  revokedPublish: number;
  /** subscriptions denied: answered with 0x80, or the one that closed its connection */
  deniedSubscribe: number;
  /** messages ingest accepted, by channel */
  published: Record<Channel, number>;
  /** messages whose ingest.accept rejected (no PUBACK sent, connection closed) */
  ingestFailures: number;
  /** messages over maxPayloadBytes, handed to ingest to be quarantined */
  oversizePayloads: number;
  /** connections dropped for a packet above the hard size ceiling */
  oversizeDropped: number;
}

/** Mutable counters behind BrokerStats; one fixed-shape object per broker. */
export class StatsCounter {
  connections = 0;
  connectsRefused = 0;
  addressRefused = 0;
  authThrottled = 0;
  deniedPublish = 0;
  qos2Refused = 0;
  revokedPublish = 0;
  deniedSubscribe = 0;
  readings = 0;
  status = 0;
  ingestFailures = 0;
  oversizePayloads = 0;
  oversizeDropped = 0;

  snapshot(): BrokerStats {
    return {
      connections: this.connections,
      connectsRefused: this.connectsRefused,
      addressRefused: this.addressRefused,
      authThrottled: this.authThrottled,
      deniedPublish: this.deniedPublish,
      qos2Refused: this.qos2Refused,
      revokedPublish: this.revokedPublish,
      deniedSubscribe: this.deniedSubscribe,
      published: { readings: this.readings, status: this.status },
      ingestFailures: this.ingestFailures,
      oversizePayloads: this.oversizePayloads,
      oversizeDropped: this.oversizeDropped,
    };
  }
}
