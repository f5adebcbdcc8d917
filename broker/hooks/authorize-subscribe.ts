import type { AedesOptions } from 'aedes';
import { who, type HookContext } from './context.js';

type AuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;

/**
 * A device may subscribe to exactly `devices/{itsId}/commands`. Any other filter, wildcards
 * included, is answered with 0x80 in the SUBACK (MQTT 3.1.1, 3.9.3) rather than by closing the
 * connection, so a device with one stray filter keeps sending readings. An exact string match
 * suffices to exclude wildcards: device ids contain neither `+` nor `#` (registry/schema.ts).
 * Service accounts may subscribe to anything.
 */
export function createAuthorizeSubscribe(ctx: HookContext): AuthorizeSubscribe {
  const { identities, stats, logger } = ctx;

  return function authorizeSubscribe(client, sub, callback) {
    const identity = identities.get(client);
    if (identity?.kind === 'service') return callback(null, sub);
    if (identity?.kind === 'device' && sub.topic === identity.topics.commands) return callback(null, sub);
    stats.deniedSubscribe++;
    logger.warn({ code: 'BRK_SUBSCRIBE_DENIED', ...who(identity), topic: sub.topic }, 'subscription denied');
    callback(null, null);
  };
}
