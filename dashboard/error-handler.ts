import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DriftwatchError } from '../lib/errors.js';
import { DashboardErrors, type DashboardErrorCode } from './errors.js';

export interface ErrorBody {
  error: { code: string; message: string };
}

/** fastify's own codes that are the client's fault, mapped to ours (fastify docs, Errors reference). */
const FASTIFY_CODES: Record<string, DashboardErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'DSH_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'DSH_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'DSH_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'DSH_BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'DSH_BAD_REQUEST',
};

/** "querystring.limit: Too big: expected number to be <=500; …" from a schema validation error. */
function validationMessage(err: FastifyError): string {
  const where = err.validationContext ?? 'request';
  return (err.validation ?? [])
    .map((v) => {
      const path = v.instancePath.split('/').filter(Boolean).join('.');
      return `${where}${path ? `.${path}` : ''}: ${v.message ?? 'invalid'}`;
    })
    .join('; ');
}

function send(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: ErrorBody = { error: { code, message } };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Every error leaves as `{error: {code, message}}`; nothing internal leaks on a 500. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DriftwatchError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof DriftwatchError) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      if (err.code === 'DSH_LOGIN_RATE_LIMITED' && typeof err.detail === 'number') reply.header('retry-after', Math.ceil(err.detail / 1000));
      const message = err.code === 'DSH_LOGIN_RATE_LIMITED' ? DashboardErrors.codes.DSH_LOGIN_RATE_LIMITED.message : err.message;
      return send(reply, err.status, err.code, message);
    }
    const fe = err as FastifyError;
    if (fe.validation) return send(reply, 400, 'DSH_BAD_REQUEST', DashboardErrors.make('DSH_BAD_REQUEST', validationMessage(fe)).message);
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return send(reply, DashboardErrors.codes[mapped].status, mapped, fe.message);
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) return send(reply, fe.statusCode, 'DSH_BAD_REQUEST', fe.message);
    request.log.error({ err }, 'request failed');
    return send(reply, 500, 'DSH_INTERNAL', DashboardErrors.codes.DSH_INTERNAL.message);
  });

  app.setNotFoundHandler((request, reply) => send(reply, 404, 'DSH_ROUTE_NOT_FOUND', `${request.method} ${request.url.split('?')[0] ?? ''}`));
}
