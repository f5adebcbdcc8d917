import { z } from 'zod';
import { KINDS, REGIONS } from '../ingest/readings.js';
import { DEVICE_ID, ROLES } from '../registry/schema.js';
import { ALERT_STATUSES, ALERT_TYPES } from '../analytics/state/alerts.js';
import { AUDIT_ACTIONS } from './audit.js';

/** Built once at load; fastify-type-provider-zod validates with them and they feed the OpenAPI document. */

/** A time as ms since epoch ("1732600000000") or an ISO 8601 date-time ("2024-11-26T06:00:00Z"). */
export const Instant = z
  .string()
  .transform((s, ctx) => {
    const ms = /^-?\d+$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
    if (!Number.isSafeInteger(ms)) {
      ctx.issues.push({ code: 'custom', message: 'expected ms since epoch or an ISO 8601 date-time', input: s });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'ms since epoch, or ISO 8601' });

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const DEVICE_PAGE = { default: 50, max: 500 } as const;
export const READINGS_PAGE = { default: 1000, max: 10_000 } as const;
export const QUARANTINE_PAGE = { default: 100, max: 1000 } as const;

export const DeviceParams = z.object({ id: DEVICE_ID });

export const DeviceListQuery = z.strictObject({
  limit: limit(DEVICE_PAGE.max, DEVICE_PAGE.default),
  cursor: DEVICE_ID.optional(),
  region: z.enum(REGIONS).optional(),
  kind: z.enum(KINDS).optional(),
  site: z.string().min(1).max(64).optional(),
});

export const ReadingsQuery = z.strictObject({
  from: Instant.optional(),
  to: Instant.optional(),
  limit: limit(READINGS_PAGE.max, READINGS_PAGE.default),
  /** ms */
  bucket: z.coerce.number().int().min(1).max(366 * 86_400_000).optional(),
});

export const QuarantineQuery = z.strictObject({
  limit: limit(QUARANTINE_PAGE.max, QUARANTINE_PAGE.default),
  cursor: z.string().min(1).max(200).optional(),
  deviceId: DEVICE_ID.optional(),
  reason: z.string().regex(/^[A-Z0-9_]{1,64}$/, 'an error code such as ING_PAYLOAD_INVALID').optional(),
});

export const LoginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(200),
});

export const ALERT_PAGE = { default: 50, max: 500 } as const;
export const ORDER_PAGE = { default: 50, max: 500 } as const;
export const AUDIT_PAGE = { default: 100, max: 1000 } as const;
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;

const idCursor = z.coerce.number().int().min(1).optional();

export const AlertListQuery = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  region: z.enum(REGIONS).optional(),
  kind: z.enum(KINDS).optional(),
  type: z.enum(ALERT_TYPES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  deviceId: DEVICE_ID.optional(),
  cursor: idCursor,
  limit: limit(ALERT_PAGE.max, ALERT_PAGE.default),
  format: z.enum(['json', 'csv']).default('json'),
});

export const AlertParams = z.object({ id: z.coerce.number().int().min(1) });

export const CommentBody = z.strictObject({
  comment: z.string().trim().min(1).max(1000),
});

export const OrderListQuery = z.strictObject({
  status: z.enum(['open', 'done', 'cancelled']).optional(),
  region: z.enum(REGIONS).optional(),
  cursor: idCursor,
  limit: limit(ORDER_PAGE.max, ORDER_PAGE.default),
});

export const EstimatesQuery = z.strictObject({
  from: Instant.optional(),
  to: Instant.optional(),
  /** points after server-side downsampling */
  points: z.coerce.number().int().min(10).max(5000).default(500),
});

export const OverviewQuery = z.strictObject({
  region: z.enum(REGIONS).optional(),
  /** days of the alerts-per-day series, ending today (platform time) */
  days: z.coerce.number().int().min(1).max(365).default(30),
});

export const UserBody = z.strictObject({
  username: z.string().regex(/^[a-z0-9_.-]{2,32}$/),
  password: z.string().min(10).max(200),
  role: z.enum(ROLES),
  regions: z.array(z.enum(REGIONS)).max(REGIONS.length).default([]),
  displayName: z.string().max(64).optional(),
});

export const DeviceStatusBody = z.strictObject({
  /** suspended: refused at CONNECT and disconnected now; replaced: retired from service */
  status: z.enum(['active', 'suspended', 'replaced']),
});

export const UserParams = z.strictObject({ username: z.string().regex(/^[a-z0-9_.-]{2,32}$/) });

export const UserUpdateBody = z
  .strictObject({
    disabled: z.boolean().optional(),
    password: z.string().min(10).max(200).optional(),
  })
  .refine((b) => b.disabled !== undefined || b.password !== undefined, { message: 'give disabled or password' });

export const PasswordChangeBody = z.strictObject({
  current: z.string().min(1).max(200),
  password: z.string().min(10).max(200),
});

export const AuditQuery = z.strictObject({
  limit: limit(AUDIT_PAGE.max, AUDIT_PAGE.default),
  cursor: idCursor,
  actor: z.string().min(1).max(64).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
});
