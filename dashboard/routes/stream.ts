import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REGIONS, type Region } from '../../ingest/readings.js';
import type { Registry, User } from '../../registry/registry.js';
import { ROLES } from '../../registry/schema.js';
import { bearerToken, canSee, userOf } from '../auth.js';
import { DashboardErrors } from '../errors.js';
import type { AnalyticsView } from '../types.js';
import { alertItem } from './alerts.js';

export interface StreamDeps {
  analytics: AnalyticsView;
  registry: Registry;
  /** streams open at once, over all users */
  maxStreams?: number;
  /** streams one user may hold at once (a few tabs), so one account cannot take them all */
  maxStreamsPerUser?: number;
  /** ms between heartbeats, each of which also re-checks the session */
  heartbeatMs?: number;
}

/** bytes: a client this far behind is cut off rather than buffered without bound; it reconnects and reloads the list */
export const STREAM_BUFFER_LIMIT = 1024 * 1024;

interface Stream {
  res: ServerResponse;
  user: User;
  token: string;
  /** narrowed to one region, or all the user's regions */
  region: Region | undefined;
}

const StreamQuery = z.strictObject({ region: z.enum(REGIONS).optional() });

/**
 * Server-sent events (WHATWG HTML, "Server-sent events"): each alert opened or changed goes, as
 * one `alert` event, to the streams whose user may see its region and nowhere else. The event is
 * serialised once and written to every stream that may have it. Each heartbeat re-checks the
 * session, so a stream ends when its session expires or logs out.
 */
export const streamRoutes: FastifyPluginAsyncZod<StreamDeps> = async (app, { analytics, registry, maxStreams = 500, maxStreamsPerUser = 8, heartbeatMs = 15_000 }) => {
  const streams = new Set<Stream>();

  const end = (s: Stream) => {
    if (!streams.delete(s)) return;
    s.res.end();
  };
  // A stream is never complete: cutting one off (or seeing it gone) destroys its response.
  const drop = (s: Stream) => {
    streams.delete(s);
    s.res.destroy();
  };
  const write = (s: Stream, chunk: string) => {
    if (s.res.writableLength > STREAM_BUFFER_LIMIT) return drop(s);
    s.res.write(chunk);
  };

  const off = analytics.alerts.onChange((a, change) => {
    if (streams.size === 0) return;
    const chunk = `id: ${a.id}\nevent: alert\ndata: ${JSON.stringify({ change, alert: alertItem(a) })}\n\n`;
    for (const s of streams) if (canSee(s.user, a.region) && (s.region === undefined || s.region === a.region)) write(s, chunk);
  });

  const timer = setInterval(() => {
    for (const s of streams) {
      if (!registry.sessionUser(s.token)) end(s);
      else write(s, `: ping\n\n`);
    }
  }, heartbeatMs);
  timer.unref();

  // preClose: before the server waits for connections to end, which a stream never would
  // (buildApp also sets forceCloseConnections for sockets a client has half-closed).
  app.addHook('preClose', async () => {
    clearInterval(timer);
    off();
    for (const s of [...streams]) drop(s);
  });

  app.get(
    '/api/alerts/stream',
    {
      config: { roles: ROLES },
      schema: {
        tags: ['alerts'],
        summary: 'live alerts of your regions as server-sent events (`event: alert`, data `{change, alert}`)',
        querystring: StreamQuery,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const token = bearerToken(request);
      if (!token) throw DashboardErrors.make('DSH_UNAUTHENTICATED');
      if (streams.size >= maxStreams) throw DashboardErrors.make('DSH_STREAM_LIMIT', `${maxStreams} streams`);
      let mine = 0;
      for (const o of streams) if (o.user.username === user.username) mine++;
      if (mine >= maxStreamsPerUser) throw DashboardErrors.make('DSH_STREAM_LIMIT', `${maxStreamsPerUser} streams per user`);
      const region = request.query.region;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-content-type-options': 'nosniff',
        // proxies such as nginx buffer responses unless told not to
        'x-accel-buffering': 'no',
      });
      const s: Stream = { res, user, token, region };
      streams.add(s);
      res.write(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ regions: user.role === 'admin' ? REGIONS : user.regions })}\n\n`);
      res.on('close', () => drop(s));
      res.on('error', () => drop(s));
    },
  );
};
