import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createAuditLog, type AuditLog } from './audit.js';
import { systemClock } from '../lib/clock.js';
import { addressKey, isLoopback } from '../lib/remote-address.js';
import type { DashboardOptions } from './types.js';

export type { AuditAction, AuditEntry, AuditLog } from './audit.js';
export type { DashboardOptions, AnalyticsView, MetricsSnapshot, QuarantineItem, QuarantineQuery, QuarantineReader, LoginLimitOptions } from './types.js';
export { DashboardErrors } from './errors.js';

export interface Dashboard {
  readonly app: FastifyInstance;
  /** logins and state changes, for the CLI and tests */
  readonly audit: AuditLog;
  /** Starts listening; resolves to the bound port (pass 0 for a free one). */
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stops accepting connections and waits for in-flight requests; safe to call twice. */
  close(): Promise<void>;
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const audit = createAuditLog({ db: opts.auditDb, clock: opts.wallClock ?? systemClock });
  const app = buildApp(opts, audit);
  let closing: Promise<void> | null = null;
  return {
    app,
    audit,
    async listen(port, host) {
      await app.listen({ port, host });
      // a bound on sockets (each a file descriptor the broker and the stores also need), in all and per
      // address (an IPv6 /64 counts as one)
      const server = app.server;
      server.maxConnections = opts.maxConnections ?? 2048;
      const perIp = opts.maxConnectionsPerIp ?? 64;
      const open = new Map<string, number>();
      server.on('connection', (socket) => {
        // loopback is not capped: a reverse proxy on this host brings every user from there
        if ((opts.loopbackExempt ?? true) && isLoopback(socket.remoteAddress)) return;
        const ip = addressKey(socket.remoteAddress) ?? '';
        const n = (open.get(ip) ?? 0) + 1;
        if (n > perIp) {
          socket.destroy();
          return;
        }
        open.set(ip, n);
        socket.once('close', () => {
          const left = (open.get(ip) ?? 1) - 1;
          if (left <= 0) open.delete(ip);
          else open.set(ip, left);
        });
      });
      const addr = app.server.address();
      return { port: typeof addr === 'object' && addr ? addr.port : port };
    },
    close() {
      closing ??= app.close().then(() => audit.close());
      return closing;
    },
  };
}
