import { z } from 'zod';
import { KINDS, REGIONS } from '../lib/domain.js';

/** Device ids appear in MQTT topics: no wildcards, separators or spaces. */
export const DEVICE_ID = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/, 'letters, digits and _ . : - only, 1–64 characters');

export const DeviceInput = z.strictObject({
  id: DEVICE_ID,
  kind: z.enum(KINDS),
  model: z.string().min(1).max(64),
  /** accuracy class as the type approval states it: meter 'A'|'B'|'C'|'1'|'2'|'0.5S'…, dispenser '0.5', scale 'III'|'IIII' */
  accuracyClass: z.string().min(1).max(16),
  region: z.enum(REGIONS),
  /** transformer area, station or market */
  site: z.string().min(1).max(64),
  /** e.g. 'head' for an area's reference meter, 'customer', 'gauge', 'trade' */
  role: z.string().min(1).max(32).default('customer'),
  /** ISO date */
  installDate: z.iso.date(),
  /** scale: verification interval e in kg; dispenser: nozzles; free-form numeric parameters of the instrument */
  params: z.record(z.string(), z.number()).default({}),
});
export type DeviceInput = z.input<typeof DeviceInput>;

export const ROLES = ['admin', 'regulator', 'inspector'] as const;
export type Role = (typeof ROLES)[number];

export const UserInput = z.strictObject({
  username: z.string().regex(/^[a-z0-9_.-]{2,32}$/),
  password: z.string().min(10).max(200),
  role: z.enum(ROLES),
  /** regions the user may see; admins see all */
  regions: z.array(z.enum(REGIONS)).default([]),
  displayName: z.string().max(64).optional(),
});
export type UserInput = z.input<typeof UserInput>;
