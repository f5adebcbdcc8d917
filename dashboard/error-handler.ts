import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DriftwatchError } from '../lib/errors.js';
import { DashboardErrors, type DashboardErrorCode } from './errors.js';

/**
 * An RFC 9457 problem document. `code` is the stable machine-readable key; `error` repeats code
 * and message in the shape the API answered with before problem documents, for existing clients
 * (RFC 9457 section 3.2 allows extension members).
 */
export interface ErrorBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  error: { code: string; message: string };
}

/** The problem type URI of a code: a URN, since the codes are documented in docs, not at a URL. */
export const problemType = (code: string): string => `urn:driftwatch:error:${code}`;

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
  const title = (DashboardErrors.codes as Record<string, { message: string } | undefined>)[code]?.message ?? code;
  const body: ErrorBody = { type: problemType(code), title, status, detail: message, code, error: { code, message } };
  return reply.code(status).type('application/problem+json; charset=utf-8').send(body);
}

/** Every error leaves as an `application/problem+json` document with a stable code; nothing internal leaks on a 500. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DriftwatchError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof DriftwatchError) {
      if (err.status >= 500) request.log.error({ err }, 'request failed');
      if ((err.code === 'DSH_LOGIN_RATE_LIMITED' || err.code === 'DSH_BUSY') && typeof err.detail === 'number') reply.header('retry-after', Math.ceil(err.detail / 1000));
      // a server-side failure's detail (a backend's own error text, its database names) is logged,
      // not sent: the code and its message say what happened
      const message = err.code === 'DSH_LOGIN_RATE_LIMITED' || err.status >= 500 ? err.brief : err.message;
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
