import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where the page is served; everything under it is public (it holds no data, only code). */
export const WEB_PREFIX = '/app/';

/**
 * The page's folder: beside this file when run from source, or in the source tree when run from
 * dist/ (the page is plain ES modules without a build step, so tsc has nothing to emit for it).
 */
export function webRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'web'), join(here, '..', '..', 'dashboard', 'web')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard page not found in ${candidates.join(' or ')}`);
  return found;
}

/** uPlot's dist folder, from node_modules: served by this process, never from a CDN. */
function uplotRoot(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

/** Serves the single-page app at /app/ and its chart library at /app/vendor/uplot/; / redirects there. */
export function registerWeb(app: FastifyInstance, root: string = webRoot()): void {
  void app.register(fastifyStatic, { root, prefix: WEB_PREFIX, index: ['index.html'], maxAge: 60_000 });
  void app.register(fastifyStatic, { root: uplotRoot(), prefix: `${WEB_PREFIX}vendor/uplot/`, decorateReply: false, maxAge: 3_600_000 });
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.redirect(WEB_PREFIX));
}
