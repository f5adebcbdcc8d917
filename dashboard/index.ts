import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createAuditLog, type AuditLog } from './audit.js';
import { systemClock } from '../lib/clock.js';
import { connectionCap } from '../lib/remote-address.js';
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
      const cap = connectionCap(opts.maxConnectionsPerIp ?? 64, opts.loopbackExempt ?? true);
      server.on('connection', (socket) => {
        const { release } = cap.admit(socket.remoteAddress);
        if (release === null) socket.destroy();
        else socket.once('close', release);
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
