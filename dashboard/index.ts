import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { DashboardOptions } from './types.js';

export type { DashboardOptions, QuarantineItem, QuarantineQuery, QuarantineReader, LoginLimitOptions } from './types.js';
export { DashboardErrors } from './errors.js';

export interface Dashboard {
  readonly app: FastifyInstance;
  /** Starts listening; resolves to the bound port (pass 0 for a free one). */
  listen(port: number, host: string): Promise<{ port: number }>;
  /** Stops accepting connections and waits for in-flight requests; safe to call twice. */
  close(): Promise<void>;
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const app = buildApp(opts);
  let closing: Promise<void> | null = null;
  return {
    app,
    async listen(port, host) {
      await app.listen({ port, host });
      const addr = app.server.address();
      return { port: typeof addr === 'object' && addr ? addr.port : port };
    },
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
