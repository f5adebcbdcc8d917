import type { AedesOptions, Client } from 'aedes';
import { BrokerErrors } from '../errors.js';
import type { Identity } from '../identity.js';
import { who, type HookContext } from './context.js';

type AuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;

/** One connection's denied filters. */
interface Denials {
  count: number;
  /** of count, those asked for on the open connection, which the limit counts */
  live: number;
  /** the first filter denied, for the log line */
  first: string;
  /** whether the connection has been told to close for them */
  closed: boolean;
}

/**
 * A device may subscribe to exactly `devices/{itsId}/commands`. Any other filter, wildcards
 * included, is answered with 0x80 in the SUBACK (MQTT 3.1.1, 3.9.3) rather than by closing the
 * connection, so a device with one stray filter keeps sending readings. An exact string match
 * suffices to exclude wildcards: device ids contain neither `+` nor `#` (registry/schema.ts).
 * Service accounts may subscribe to anything.
 *
 * A SUBSCRIBE may carry thousands of filters, each denied separately, so denials are bounded per
 * connection:
 * - logged once: one warn line with the first denied filter and the count, written once the
 *   SUBSCRIBE that brought the first denial has been handled (aedes authorizes a packet's filters
 *   in one synchronous pass, so the count covers that packet); later denials are only counted in
 *   stats.deniedSubscribe;
 * - at `maxDenied` denied filters the connection is closed without a SUBACK (BRK_SUBSCRIBE_LIMIT):
 *   no device needs that many, and a device that is closed reconnects and subscribes afresh.
 *   Filters restored from a persistent session while the client connects are denied the same way
 *   but do not count towards the limit: aedes stores a SUBSCRIBE's whole filter list, denied
 *   filters included, so such a session would otherwise close the device again at each reconnect.
 */
export function createAuthorizeSubscribe(ctx: HookContext, maxDenied: number): AuthorizeSubscribe {
  const { identities, stats, logger } = ctx;
  const denials = new WeakMap<Client, Denials>();

  const report = (identity: Identity | undefined, d: Denials): void => {
    logger.warn({ code: 'BRK_SUBSCRIBE_DENIED', ...who(identity), topic: d.first, count: d.count, closed: d.closed }, 'subscription denied');
  };

  return function authorizeSubscribe(client, sub, callback) {
    const identity = identities.get(client);
    if (identity?.kind === 'service') return callback(null, sub);
    if (identity?.kind === 'device' && sub.topic === identity.topics.commands) return callback(null, sub);
    stats.deniedSubscribe++;
    let d = denials.get(client);
    if (d === undefined) {
      const first: Denials = { count: 0, live: 0, first: sub.topic, closed: false };
      denials.set(client, first);
      setImmediate(() => report(identity, first));
      d = first;
    }
    d.count++;
    if (client.connected) d.live++;
    if (!d.closed && d.live >= maxDenied) {
      d.closed = true;
      logger.debug({ code: 'BRK_SUBSCRIBE_LIMIT', ...who(identity), count: d.count }, 'connection closed');
      return callback(BrokerErrors.make('BRK_SUBSCRIBE_LIMIT', d.count));
    }
    callback(null, null);
  };
}
