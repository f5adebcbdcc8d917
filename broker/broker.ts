import { Aedes, type Client } from 'aedes';
import type { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { IngestSink } from '../ingest/port.js';
import { BrokerErrors } from './errors.js';
import { guardFrameSize } from './frame-guard.js';
import { ServiceAccounts, type DeviceAuthenticator, type Identity, type ServiceAccount } from './identity.js';
import { Inflight } from './inflight.js';
import { StatsCounter, type BrokerStats } from './stats.js';
import { createAuthenticate } from './hooks/authenticate.js';
import { createAuthorizePublish } from './hooks/authorize-publish.js';
import { createAuthorizeSubscribe } from './hooks/authorize-subscribe.js';
import type { HookContext } from './hooks/context.js';

export interface BrokerLimits {
  /** bytes; payloads above it are counted and still handed to ingest, which quarantines them */
  maxPayloadBytes: number;
  /**
   * bytes; hard ceiling on a packet's Remaining Length. A client that sends a larger packet is
   * disconnected as soon as its header arrives (frame-guard.ts).
   */
  maxPacketBytes: number;
  /** ms a new connection may take to send CONNECT */
  connectTimeoutMs: number;
  /** ms a client may leave its socket undrained before it is disconnected */
  drainTimeoutMs: number;
  /** levels allowed in a topic or filter; the topic tree is three deep */
  maxTopicLevels: number;
  /** open connections, including ones that have not yet sent CONNECT */
  maxConnections: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = {
  maxPayloadBytes: 16 * 1024,
  maxPacketBytes: 256 * 1024,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 30_000,
  maxTopicLevels: 8,
  maxConnections: 50_000,
};

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
  /** Serves one MQTT connection over any duplex byte stream (TCP socket, WebSocket, test pair). */
  handle(stream: Duplex): void;
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
  const ctx: HookContext = { identities: new WeakMap<Client, Identity>(), stats, logger };

  const aedes = new Aedes({
    connectTimeout: limits.connectTimeoutMs,
    drainTimeout: limits.drainTimeoutMs,
    maxTopicLevels: limits.maxTopicLevels,
    // aedes applies this to MQTT 3.1 clients only; device ids are up to 64 characters (registry/schema.ts)
    maxClientsIdLength: 64,
    authenticate: createAuthenticate(ctx, opts.registry, new ServiceAccounts(opts.serviceAccounts ?? [])),
    authorizePublish: createAuthorizePublish(ctx, {
      ingest: opts.ingest,
      clock: opts.clock ?? systemClock,
      inflight,
      maxPayloadBytes: limits.maxPayloadBytes,
    }),
    authorizeSubscribe: createAuthorizeSubscribe(ctx),
  });
  // aedes emits 'error' when replaying persisted wills fails; unhandled it would end the process.
  // Its typings omit that event, hence the EventEmitter view.
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => logger.error({ err }, 'broker error'));
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (_client, err) => logger.debug({ err: err.message }, 'connection error'));

  const streams = new Set<Duplex>();
  const servers: Server[] = [];
  let started: Promise<void> | null = null;
  let closing: Promise<void> | null = null;

  function handle(stream: Duplex): void {
    if (closing !== null) {
      stream.destroy();
      return;
    }
    if (started === null) {
      stream.destroy();
      throw BrokerErrors.make('BRK_NOT_STARTED', 'call start() or listen() before handle()');
    }
    // The cap is applied here rather than in aedes' preConnect: preConnect runs only once a CONNECT
    // has arrived, so connections that never send one would escape it until connectTimeoutMs.
    if (streams.size >= limits.maxConnections) {
      stats.connectsRefused++;
      logger.warn({ code: 'BRK_TOO_MANY_CONNECTIONS', limit: limits.maxConnections }, 'connection refused');
      stream.destroy();
      return;
    }
    streams.add(stream);
    stats.connections = streams.size;
    stream.once('close', () => {
      streams.delete(stream);
      stats.connections = streams.size;
    });
    aedes.handle(stream);
    guardFrameSize(stream, limits.maxPacketBytes, (announced) => {
      stats.oversizeDropped++;
      logger.warn({ code: 'BRK_PACKET_TOO_LARGE', bytes: announced, limit: limits.maxPacketBytes }, 'connection dropped');
    });
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
      handle(socket);
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
