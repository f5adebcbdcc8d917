import { errorTable } from '../lib/errors.js';

/**
 * Codes the HTTP API answers with, as `{error: {code, message}}`. Errors of other parts
 * (DriftwatchError, e.g. REG_DEVICE_EXISTS) pass through with their own code and status.
 */
export const DashboardErrors = errorTable({
  DSH_UNAUTHENTICATED: { message: 'a valid bearer token is required', status: 401 },
  DSH_LOGIN_FAILED: { message: 'wrong username or password', status: 401 },
  DSH_LOGIN_RATE_LIMITED: { message: 'too many failed logins; try again later', status: 429 },
  DSH_PASSWORD_WRONG: { message: 'the current password is wrong', status: 403 },
  DSH_BUSY: { message: 'too many logins being checked at once; try again in a moment', status: 503 },
  DSH_FORBIDDEN: { message: 'your role may not do this', status: 403 },
  DSH_NOT_FOUND: { message: 'not found', status: 404 },
  DSH_ROUTE_NOT_FOUND: { message: 'no such route', status: 404 },
  DSH_BAD_REQUEST: { message: 'invalid request', status: 400 },
  DSH_BODY_TOO_LARGE: { message: 'request body is too large', status: 413 },
  DSH_UNSUPPORTED_MEDIA_TYPE: { message: 'unsupported content type', status: 415 },
  DSH_STREAM_LIMIT: { message: 'too many live streams open; try again later', status: 503 },
  DSH_INTERNAL: { message: 'internal error', status: 500 },
});

export type DashboardErrorCode = keyof typeof DashboardErrors.codes;
