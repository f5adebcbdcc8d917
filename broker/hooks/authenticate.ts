import type { AedesOptions } from 'aedes';
import { ConnectRefusal, type BrokerErrorCode, type ConnackCode } from '../errors.js';
import { deviceIdentity, type DeviceAuthenticator, type ServiceAccounts } from '../identity.js';
import type { HookContext } from './context.js';

type Authenticate = NonNullable<AedesOptions['authenticate']>;

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
 */
export function createAuthenticate(ctx: HookContext, registry: DeviceAuthenticator, services: ServiceAccounts, maxConcurrent = Infinity): Authenticate {
  const { identities, stats, logger } = ctx;
  /** device secret checks running: bounded, so a flood of CONNECTs (unknown ids cost a check too) cannot hold the thread pool logins share */
  let checking = 0;

  return function authenticate(client, username, password, done) {
    const refuse = (code: BrokerErrorCode, returnCode: ConnackCode, cause?: unknown): void => {
      stats.connectsRefused++;
      logger.warn({ code, clientId: client.id, username, err: cause }, 'connect refused');
      done(new ConnectRefusal(code, returnCode, username, cause), false);
    };

    if (username === undefined || password === undefined) return refuse('BRK_AUTH_FAILED', 4);

    if (services.has(username)) {
      if (client.id !== username && !client.id.startsWith(`${username}-`)) return refuse('BRK_CLIENT_ID_MISMATCH', 2);
      if (!services.verify(username, password)) return refuse('BRK_AUTH_FAILED', 4);
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
