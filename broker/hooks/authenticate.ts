import type { AedesOptions, Client } from 'aedes';
import type { FailureLimiter } from '../../lib/failure-limiter.js';
import { ConnectRefusal, type BrokerErrorCode, type ConnackCode } from '../errors.js';
import { deviceIdentity, type DeviceAuthenticator, type ServiceAccounts } from '../identity.js';
import type { HookContext } from './context.js';

type Authenticate = NonNullable<AedesOptions['authenticate']>;

export interface AuthenticateOptions {
  /** device secret checks running at once; beyond, CONNACK 3 */
  maxConcurrent?: number;
  /** the remote address of a client's connection, as the connection cap keyed it; undefined when unknown, and then not throttled */
  peerOf?: (client: Client) => PeerAddress | undefined;
  /** failed service-account logins per throttle key (throttleKey); null turns the throttle off */
  failures?: FailureLimiter | null;
}

/** A connection's remote address as the broker admitted it: the connection cap's key (addressKey: an IPv6 /64 as one), and whether it is loopback. */
export interface PeerAddress {
  key: string;
  loopback: boolean;
}

/**
 * The key a connection's failed logins count against: its address key, or on loopback its address
 * and username, since every demo device and local tool connects from there and one local
 * process's failures must not refuse all of them.
 */
function throttleKey(peer: PeerAddress | undefined, username: string | undefined): string | undefined {
  if (peer === undefined) return undefined;
  return peer.loopback ? `${peer.key} ${username ?? ''}` : peer.key;
}

/**
 * Deny by default: a CONNECT without a username and password, or with ones that match neither a
 * service account nor an active device, is refused with CONNACK 4.
 *
 * Client ids are bound to identities because aedes, like MQTT 3.1.1 3.1.4-2 demands, closes an
 * existing session when a new CONNECT reuses its client id. So:
 * - a device must use its device id as client id, or one device could end another's session
 *   (and take its queued commands) by connecting under the other's id;
 * - a service account must use its username, or its username followed by `-` and anything,
 *   so an internal client can never displace a device either.
 * A mismatch is refused with CONNACK 2 before any secret is checked: it is cheap, and it tells
 * the installer exactly what to fix.
 *
 * Failed service-account logins are throttled per remote address (BrokerLimits.maxAuthFailures):
 * a service password is checked in microseconds and may have been chosen by a person. Once an
 * address has used up its failures, its CONNECTs are answered CONNACK 5 before anything is
 * checked, until its window ends. Failed device logins are not counted: a device secret is a
 * 128-bit random token (registry/secrets.ts), out of reach of guessing, whose check is already
 * slow (scrypt) and bounded (maxConcurrent); and counting them per address would let one
 * suspended or re-keyed device that keeps reconnecting with its old secret lock out every device
 * behind the same NAT, or the whole demo fleet on loopback.
 */
export function createAuthenticate(ctx: HookContext, registry: DeviceAuthenticator, services: ServiceAccounts, opts: AuthenticateOptions = {}): Authenticate {
  const { identities, stats, logger } = ctx;
  const maxConcurrent = opts.maxConcurrent ?? Infinity;
  const peerOf = opts.peerOf ?? (() => undefined);
  const failures = opts.failures ?? null;
  /** device secret checks running: bounded, so a flood of CONNECTs (unknown ids cost a check too) cannot hold the thread pool logins share */
  let checking = 0;

  return function authenticate(client, username, password, done) {
    const refuse = (code: BrokerErrorCode, returnCode: ConnackCode, cause?: unknown): void => {
      stats.connectsRefused++;
      logger.warn({ code, clientId: client.id, username, err: cause }, 'connect refused');
      done(new ConnectRefusal(code, returnCode, username, cause), false);
    };

    const key = failures === null ? undefined : throttleKey(peerOf(client), username);
    if (failures !== null && key !== undefined) {
      const wait = failures.retryAfter(key);
      if (wait > 0) {
        // one warn line when the block begins (below); each refusal during it only at debug, or a
        // client hammering the broker would flood the log instead
        stats.connectsRefused++;
        stats.authThrottled++;
        logger.debug({ code: 'BRK_AUTH_THROTTLED', clientId: client.id, username, address: key, retryAfterMs: wait }, 'connect refused');
        return done(new ConnectRefusal('BRK_AUTH_THROTTLED', 5, username), false);
      }
    }

    if (username === undefined || password === undefined) return refuse('BRK_AUTH_FAILED', 4);

    if (services.has(username)) {
      if (client.id !== username && !client.id.startsWith(`${username}-`)) return refuse('BRK_CLIENT_ID_MISMATCH', 2);
      if (!services.verify(username, password)) {
        if (failures !== null && key !== undefined) {
          failures.fail(key);
          const wait = failures.retryAfter(key);
          if (wait > 0) logger.warn({ code: 'BRK_AUTH_THROTTLED', service: username, address: key, retryAfterMs: wait }, 'too many failed service logins: further CONNECTs refused for a while');
        }
        return refuse('BRK_AUTH_FAILED', 4);
      }
      identities.set(client, { kind: 'service', username });
      logger.debug({ service: username, clientId: client.id }, 'service connected');
      return done(null, true);
    }

    if (client.id !== username) return refuse('BRK_CLIENT_ID_MISMATCH', 2);
    if (checking >= maxConcurrent) return refuse('BRK_AUTH_BUSY', 3);
    checking++;
    registry.authenticateDevice(username, password.toString('utf8')).then(
      (device) => {
        checking--;
        if (device === null) return refuse('BRK_AUTH_FAILED', 4);
        identities.set(client, deviceIdentity(device));
        logger.debug({ deviceId: device.id }, 'device connected');
        done(null, true);
      },
      (err: unknown) => {
        checking--;
        refuse('BRK_AUTH_UNAVAILABLE', 3, err);
      },
    );
  };
}
