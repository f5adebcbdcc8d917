import type { Client } from 'aedes';
import type { Logger } from '../../lib/log.js';
import type { Identity } from '../identity.js';
import type { StatsCounter } from '../stats.js';

/** What the aedes hooks of one broker share: who each client is, the counters, the logger. */
export interface HookContext {
  readonly identities: WeakMap<Client, Identity>;
  readonly stats: StatsCounter;
  readonly logger: Logger;
}

/** The identity's name for logs: a device id or a service account. */
export function who(identity: Identity | undefined): { deviceId: string } | { service: string } | { anonymous: true } {
  if (identity === undefined) return { anonymous: true };
  return identity.kind === 'service' ? { service: identity.username } : { deviceId: identity.device.id };
}
