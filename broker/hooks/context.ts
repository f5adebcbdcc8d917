import type { Client } from 'aedes';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../identity.js';
import type { StatsCounter } from '../stats.js';

/** What the aedes hooks of one broker share: who each client is, the counters, the logger. */
export interface HookContext {
  readonly identities: WeakMap<Client, Identity>;
  /**
   * Clients the broker closed because their device's credentials were withdrawn (suspended, or
   * its secret rotated). aedes publishes a will as it closes a connection, through
   * authorizePublish, with the identity still in `identities`: the broker adds a client here
   * before closing it so that the will, like anything else it sends afterwards, is refused.
   */
  readonly revoked: WeakSet<Client>;
  readonly stats: StatsCounter;
  readonly logger: Logger;
}

/** The identity's name for logs: a device id or a service account. */
export function who(identity: Identity | undefined): { deviceId: string } | { service: string } | { anonymous: true } {
  if (identity === undefined) return { anonymous: true };
  return identity.kind === 'device' ? { deviceId: identity.device.id } : { service: identity.username };
}
