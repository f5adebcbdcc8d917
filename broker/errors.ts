import { DriftwatchError, errorTable } from '../lib/errors.js';

/**
 * The broker's codes. A device never reads them (MQTT 3.1.1 has no reason strings): it sees a
 * CONNACK return code, a SUBACK 0x80 or a closed connection, as `MQTT_OUTCOME` states per code.
 * They appear in logs and stats.
 */
export const BrokerErrors = errorTable({
  BRK_AUTH_FAILED: { message: 'unknown client or wrong secret', status: 401 },
  BRK_CLIENT_ID_MISMATCH: { message: 'a device must connect with its device id as client id', status: 401 },
  BRK_AUTH_UNAVAILABLE: { message: 'the device registry could not be consulted', status: 503 },
  BRK_AUTH_BUSY: { message: 'too many device credentials being checked at once; reconnect later', status: 503 },
  BRK_AUTH_THROTTLED: { message: 'too many failed logins from this address; try again later', status: 429 },
  BRK_TOO_MANY_CONNECTIONS: { message: 'the broker is at its connection limit', status: 503 },
  BRK_ADDRESS_CONNECTION_LIMIT: { message: 'the remote address is at its connection limit', status: 429 },
  BRK_PACKET_TOO_LARGE: { message: 'MQTT packet is larger than the hard ceiling', status: 413 },
  BRK_TOPIC_DENIED: { message: 'this client may not publish to this topic', status: 403 },
  BRK_CLIENT_REVOKED: { message: 'the credentials this client connected with were withdrawn', status: 403 },
  BRK_QOS_REFUSED: { message: 'devices publish with QoS 0 or 1; QoS 2 is refused', status: 400 },
  BRK_SUBSCRIBE_DENIED: { message: 'this client may not subscribe to this topic filter', status: 403 },
  BRK_SUBSCRIBE_LIMIT: { message: 'too many subscriptions denied on one connection', status: 429 },
  BRK_INGEST_FAILED: { message: 'ingest could not make the message durable', status: 503 },
  BRK_NOT_STARTED: { message: 'the broker is not started or already closed', status: 503 },
  BRK_EXTERNAL_UNKNOWN_DEVICE: { message: 'message on an external broker names no active device', status: 404 },
});

export type BrokerErrorCode = keyof typeof BrokerErrors.codes;

/** What the MQTT peer experiences for each code (MQTT 3.1.1, 3.2.2.3 for CONNACK codes). */
export const MQTT_OUTCOME: { readonly [K in BrokerErrorCode]: string } = {
  BRK_AUTH_FAILED: 'CONNACK 4 (bad user name or password)',
  BRK_CLIENT_ID_MISMATCH: 'CONNACK 2 (identifier rejected)',
  BRK_AUTH_UNAVAILABLE: 'CONNACK 3 (server unavailable)',
  BRK_AUTH_BUSY: 'CONNACK 3 (server unavailable)',
  BRK_AUTH_THROTTLED: 'CONNACK 5 (not authorized), nothing checked',
  BRK_TOO_MANY_CONNECTIONS: 'connection closed before CONNACK',
  BRK_ADDRESS_CONNECTION_LIMIT: 'connection closed before CONNACK',
  BRK_PACKET_TOO_LARGE: 'connection closed',
  BRK_TOPIC_DENIED: 'connection closed, no PUBACK',
  BRK_CLIENT_REVOKED: 'connection closed; its will is not published',
  BRK_QOS_REFUSED: 'connection closed, no PUBREC',
  BRK_SUBSCRIBE_DENIED: 'SUBACK 0x80 for that filter',
  BRK_SUBSCRIBE_LIMIT: 'connection closed, no SUBACK',
  BRK_INGEST_FAILED: 'connection closed, no PUBACK (the device resends)',
  BRK_NOT_STARTED: 'stream destroyed',
  BRK_EXTERNAL_UNKNOWN_DEVICE: 'acknowledged to the external broker and dropped',
};

/** CONNACK return codes of MQTT 3.1.1, 3.2.2.3. */
export type ConnackCode = 2 | 3 | 4 | 5;

/**
 * A refused CONNECT. aedes reads `returnCode` from the error its authenticate hook is given
 * (aedes 1.2 lib/handlers/connect.js), so the field is declared here rather than stuck on.
 */
export class ConnectRefusal extends DriftwatchError {
  readonly returnCode: ConnackCode;
  constructor(code: BrokerErrorCode, returnCode: ConnackCode, detail?: unknown, cause?: unknown) {
    super(code, BrokerErrors.codes[code], detail, cause);
    this.returnCode = returnCode;
  }
}
