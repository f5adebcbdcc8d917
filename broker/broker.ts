import { Aedes, type Client } from 'aedes';
import type { EventEmitter } from 'node:events';
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { IngestSink } from '../ingest/port.js';
import { MAX_PAYLOAD_BYTES } from '../ingest/readings.js';
import { BrokerErrors } from './errors.js';
import { guardFrameSize, type FrameGuard } from './frame-guard.js';
import { ServiceAccounts, type DeviceAuthenticator, type Identity, type ServiceAccount } from './identity.js';
import { Inflight } from './inflight.js';
import { createFailureLimiter } from '../lib/failure-limiter.js';
import { connectionCap, isLoopback } from '../lib/remote-address.js';
import { StatsCounter, type BrokerStats } from './stats.js';
import { createAuthenticate, type PeerAddress } from './hooks/authenticate.js';
import { createAuthorizePublish } from './hooks/authorize-publish.js';
import { createAuthorizeSubscribe } from './hooks/authorize-subscribe.js';
import type { HookContext } from './hooks/context.js';

export interface BrokerLimits {
  /** bytes; payloads above it are counted and still handed to ingest, which quarantines them */
  maxPayloadBytes: number;
  /**
   * bytes; hard ceiling on a packet's Remaining Length once the client has authenticated. A
   * client that sends a larger packet is disconnected as soon as its header arrives
   * (frame-guard.ts). 64 KiB by default, four times the ingest payload limit rather than that
   * limit plus header overhead: a payload somewhat over the limit still reaches ingest, which
   * quarantines it and lets it be acknowledged, instead of a closed connection the device would
   * resend into forever; what one client can make the broker buffer stays small either way.
   */
  maxPacketBytes: number;
  /**
   * bytes; the same ceiling until the client has authenticated (the CONNECT, and anything
   * pipelined behind it before CONNACK). Small, so a connection that never authenticates can
   * make the broker buffer only this much until connectTimeoutMs ends it; 20 KiB holds a
   * CONNECT with a will of a full ingest payload (16 KiB), credentials and topic.
   */
  maxPacketBytesBeforeAuth: number;
  /** ms a new connection may take to send CONNECT */
  connectTimeoutMs: number;
  /** ms a client may leave its socket undrained before it is disconnected */
  drainTimeoutMs: number;
  /**
   * QoS 2 PUBLISHes a client may leave stored awaiting PUBREL (aedes' maxInflightInbound); one
   * more closes its connection. It bounds service accounts: devices may not publish with QoS 2
   * at all (hooks/authorize-publish.ts), because aedes counts this per connection while a
   * persistent session keeps the stored messages across reconnects.
   */
  maxInflightQos2: number;
  /** levels allowed in a topic or filter; the topic tree is three deep */
  maxTopicLevels: number;
  /**
   * filters a device may have denied on one connection; the one that reaches it closes the
   * connection (hooks/authorize-subscribe.ts). A device needs one filter, its commands topic.
   */
  maxDeniedSubscriptions: number;
  /** open connections, including ones that have not yet sent CONNECT */
  maxConnections: number;
  /**
   * device secret checks (scrypt) running at once; a CONNECT beyond it is answered CONNACK 3
   * (server unavailable) and the device reconnects with its backoff.
   *
   * The dashboard's password checks (LoginLimitOptions.maxConcurrent, 4 by default) run on the
   * same libuv thread pool under a limit of their own, on purpose, not one shared count:
   * - each reserves its side a share: with one count, a CONNECT flood of unknown ids (each costs a
   *   check, so timing tells nothing) would answer every login 503, and a login spray from many
   *   addresses would answer every device CONNACK 3;
   * - the costs differ 32-fold (N = 2^15 against 2^10, registry/secrets.ts): one count sized to
   *   the thread pool would refuse most of a fleet's reconnect storm, while one sized for devices
   *   would let hundreds of password checks queue.
   * What the two may queue together, counted in device checks, is this plus 32 times the login
   * limit (256 + 128 by default, about 1.2 s of CPU at ~0.1 s a password check). Keep that sum
   * at most about 1000 (some 3 s even on one core): a device waits 10 s for its CONNACK
   * (devices-sim) and one that gives up reconnects into the same queue.
   */
  maxConcurrentAuth: number;
  /**
   * open connections from one remote address (an IPv4 address, or an IPv6 /64: lib/remote-address.ts),
   * authenticated or not, so one host cannot take the whole of maxConnections. Devices behind
   * one NAT share an address: a deployment with more of them than this behind one raises it.
   * 0 turns the cap off.
   */
  maxConnectionsPerAddress: number;
  /**
   * whether loopback addresses (127/8, ::1) are exempt from that cap: the platform's own demo
   * fleet and local tools connect every device from there, and a local process has other ways to
   * exhaust the host; true by default
   */
  loopbackExempt: boolean;
  /**
   * failed service-account logins (a wrong password) from one remote address within
   * authFailureWindowMs after which every further CONNECT from that address, devices' included, is
   * answered CONNACK 5 (not authorized) without any check, until the window that began at its
   * first failure ends.
   * Service passwords may be chosen by people and are checked in microseconds, so without this
   * they could be guessed at about 1000 a second. On loopback, where the demo fleet and local tools
   * connect every device from, failures count per address and username and only that username is
   * refused: a local process guessing a service password cannot lock out the devices there.
   * Successes are never counted, so a client that has its password right is refused only while
   * someone at its address has used up the failures. Device secrets are not counted
   * (hooks/authenticate.ts says why). 0 turns the throttle off.
   */
  maxAuthFailures: number;
  /** ms; the throttle's window, measured on the wall clock (also under the demo's accelerated one) */
  authFailureWindowMs: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = {
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  maxPacketBytes: 64 * 1024,
  maxPacketBytesBeforeAuth: 20 * 1024,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  maxInflightQos2: 16,
  maxTopicLevels: 8,
  maxDeniedSubscriptions: 10,
  maxConnections: 50_000,
  maxConcurrentAuth: 256,
  maxConnectionsPerAddress: 200,
  loopbackExempt: true,
  maxAuthFailures: 10,
  authFailureWindowMs: 15 * 60_000,
};

/**
 * addresses (or loopback address and username pairs) the failed-login throttle keeps counts for;
 * past it the least recently failed is forgotten. About 100 bytes each: 1 MB at most.
 */
const MAX_THROTTLED_ADDRESSES = 10_000;

export interface BrokerOptions {
  registry: DeviceAuthenticator;
  ingest: IngestSink;
  serviceAccounts?: readonly ServiceAccount[];
  clock?: Clock;
  logger?: Logger;
  limits?: Partial<BrokerLimits>;
}

export interface Broker {
  /** the aedes instance, for internal publishing (`aedes.publish`) and events */
  readonly aedes: Aedes;
  /** Prepares the broker to take connections; listen() calls it. Idempotent. */
  start(): Promise<void>;
  /** Accepts MQTT over TCP. `host` defaults to loopback: exposing the broker is a deliberate choice. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /**
   * Serves one MQTT connection over any duplex byte stream (TCP socket, WebSocket, test pair).
   * `remoteAddress` is the peer's address for the per-address connection cap; a TCP socket's own
   * is used when it is omitted, and a stream with neither is not counted against that cap.
   */
  handle(stream: Duplex, remoteAddress?: string): void;
  stats(): BrokerStats;
  /** Stops listening, disconnects every client and waits for messages still being ingested. Idempotent. */
  close(): Promise<void>;
}

/**
 * The embedded MQTT 3.1.1 broker: aedes with deny-by-default hooks that authenticate devices
 * against the registry and hand their messages to ingest before acknowledging them.
 * Construction does no I/O; start() or listen() begins, close() ends.
 */
export function createBroker(opts: BrokerOptions): Broker {
  const limits: BrokerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const logger = opts.logger ?? silentLogger;
  const stats = new StatsCounter();
  const inflight = new Inflight();
  /** each connection's address as admitted (the connection cap's key, computed once), for the failed-login throttle */
  const peers = new WeakMap<object, PeerAddress>();
  const ctx: HookContext = { identities: new WeakMap<Client, Identity>(), stats, logger };

  const aedes = new Aedes({
    connectTimeout: limits.connectTimeoutMs,
    drainTimeout: limits.drainTimeoutMs,
    maxTopicLevels: limits.maxTopicLevels,
    maxInflightInbound: limits.maxInflightQos2,
    // aedes applies this to MQTT 3.1 clients only; device ids are up to 64 characters (registry/schema.ts)
    maxClientsIdLength: 64,
    authenticate: createAuthenticate(ctx, opts.registry, new ServiceAccounts(opts.serviceAccounts ?? []), {
      maxConcurrent: limits.maxConcurrentAuth,
      peerOf: (client) => peers.get(client.conn),
      // the wall clock, not opts.clock: the demo's accelerated clock would shorten the window
      failures:
        limits.maxAuthFailures > 0
          ? createFailureLimiter(systemClock, { maxFailures: limits.maxAuthFailures, windowMs: limits.authFailureWindowMs, maxKeys: MAX_THROTTLED_ADDRESSES })
          : null,
    }),
    authorizePublish: createAuthorizePublish(ctx, {
      ingest: opts.ingest,
      clock: opts.clock ?? systemClock,
      inflight,
      maxPayloadBytes: limits.maxPayloadBytes,
    }),
    authorizeSubscribe: createAuthorizeSubscribe(ctx, limits.maxDeniedSubscriptions),
  });
  // aedes emits 'error' when replaying persisted wills fails; unhandled it would end the process.
  // Its typings omit that event, hence the EventEmitter view.
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => logger.error({ err }, 'broker error'));
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (_client, err) => logger.debug({ err: err.message }, 'connection error'));

  const streams = new Set<Duplex>();
  const perAddress = connectionCap(limits.maxConnectionsPerAddress, limits.loopbackExempt);
  /** each open connection's frame guard, until its client has authenticated */
  const guards = new WeakMap<object, FrameGuard>();
  // aedes emits 'client' once authenticate has let the client in, before CONNACK; it reads
  // nothing more from the connection until CONNACK is written (authenticate pauses the client),
  // so the raised ceiling applies from the first packet after CONNECT
  aedes.on('client', (client) => {
    const guard = guards.get(client.conn);
    if (guard === undefined) return;
    guard.maxBytes = limits.maxPacketBytes;
    guards.delete(client.conn);
  });
  // a suspended device, or one whose secret was rotated, must not keep the connection it has, nor
  // have its will published as that connection closes: `revoke` marks its identity revoked first,
  // so authorizePublish refuses the will aedes publishes from close()
  const revoke = (client: Client): void => {
    const identity = ctx.identities.get(client);
    if (identity?.kind === 'device') ctx.identities.set(client, { kind: 'revoked', device: identity.device });
    client.close();
  };
  const connected = new Map<string, Client>();
  // a change that lands between a device's secret check and aedes' 'client' event finds no
  // connection to close: remembered for a while, and such a client is closed as it arrives (it
  // reconnects and is checked afresh)
  const changedAt = new Map<string, number>();
  aedes.on('client', (client) => {
    const at = changedAt.get(client.id);
    if (at !== undefined && Date.now() - at < 30_000) {
      changedAt.delete(client.id);
      revoke(client);
      return;
    }
    connected.set(client.id, client);
  });
  aedes.on('clientDisconnect', (client) => {
    if (connected.get(client.id) === client) connected.delete(client.id);
  });
  const unwatch = opts.registry.onDeviceChange?.((deviceId, revoked) => {
    if (!revoked) {
      changedAt.delete(deviceId);
      return;
    }
    const client = connected.get(deviceId);
    if (!client) {
      if (changedAt.size >= 10_000) changedAt.clear();
      changedAt.set(deviceId, Date.now());
      return;
    }
    logger.info({ deviceId }, 'device credentials or status changed: connection closed');
    revoke(client);
  });
  const servers: Server[] = [];
  let started: Promise<void> | null = null;
  let closing: Promise<void> | null = null;

  function handle(stream: Duplex, remoteAddress?: string): void {
    if (closing !== null) {
      stream.destroy();
      return;
    }
    if (started === null) {
      stream.destroy();
      throw BrokerErrors.make('BRK_NOT_STARTED', 'call start() or listen() before handle()');
    }
    // The caps are applied here rather than in aedes' preConnect: preConnect runs only once a CONNECT
    // has arrived, so connections that never send one would escape them until connectTimeoutMs.
    if (streams.size >= limits.maxConnections) {
      stats.connectsRefused++;
      logger.warn({ code: 'BRK_TOO_MANY_CONNECTIONS', limit: limits.maxConnections }, 'connection refused');
      stream.destroy();
      return;
    }
    const peer = remoteAddress ?? (stream instanceof Socket ? stream.remoteAddress : undefined);
    const { address, release } = perAddress.admit(peer);
    if (release === null) {
      stats.connectsRefused++;
      stats.addressRefused++;
      logger.warn({ code: 'BRK_ADDRESS_CONNECTION_LIMIT', address, limit: limits.maxConnectionsPerAddress }, 'connection refused');
      stream.destroy();
      return;
    }
    if (address !== undefined) peers.set(stream, { key: address, loopback: isLoopback(peer) });
    streams.add(stream);
    stats.connections = streams.size;
    stream.once('close', () => {
      streams.delete(stream);
      stats.connections = streams.size;
      release();
    });
    aedes.handle(stream);
    const guard = guardFrameSize(stream, Math.min(limits.maxPacketBytesBeforeAuth, limits.maxPacketBytes), (announced, limit) => {
      stats.oversizeDropped++;
      logger.warn({ code: 'BRK_PACKET_TOO_LARGE', bytes: announced, limit, authenticated: !guards.has(stream), address }, 'connection dropped');
    });
    guards.set(stream, guard);
  }

  function start(): Promise<void> {
    if (closing !== null) return Promise.reject(BrokerErrors.make('BRK_NOT_STARTED'));
    return (started ??= aedes.listen());
  }

  async function listen(port: number, host = '127.0.0.1'): Promise<{ port: number }> {
    await start();
    const server = createServer((socket) => {
      // PUBACKs are small and latency-bound; Nagle would hold each one back
      socket.setNoDelay(true);
      handle(socket, socket.remoteAddress);
    });
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => logger.error({ err }, 'listener error'));
    return { port: (server.address() as AddressInfo).port };
  }

  async function shutdown(): Promise<void> {
    unwatch?.();
    const serversClosed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    if (started !== null) {
      await started.catch(() => undefined);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    }
    // aedes closes the clients it registered; connections still before CONNECT are ours to end
    for (const s of streams) s.destroy();
    await Promise.all(serversClosed);
    await inflight.idle();
  }

  return {
    aedes,
    start,
    listen,
    handle,
    stats: () => stats.snapshot(),
    close: () => (closing ??= shutdown()),
  };
}
