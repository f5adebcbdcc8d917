import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Salted scrypt hashes, stored as `scrypt$N$r$p$salt$hash` (base64url), so cost can rise later
 * without invalidating stored secrets.
 *
 * Two costs: user passwords are chosen by people and get the full interactive cost (N = 2^15);
 * device secrets are 128-bit random tokens minted here, which no dictionary attack can reach, so a
 * cheaper N = 2^10 keeps a fleet's reconnect storm (thousands of CONNECTs) from eating the CPU.
 */
export const PASSWORD_COST: ScryptOptions = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
export const DEVICE_SECRET_COST: ScryptOptions = { N: 1 << 10, r: 8, p: 1 };
const KEYLEN = 32;

export function hashSecret(secret: string, cost: ScryptOptions): string {
  const salt = randomBytes(16);
  return format(cost, salt, scryptSync(secret, salt, KEYLEN, cost));
}

/** hashSecret off the event loop: for a password set while the process serves devices and users (N = 2^15 takes ~0.1 s) */
export function hashSecretAsync(secret: string, cost: ScryptOptions): Promise<string> {
  const salt = randomBytes(16);
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEYLEN, cost, (err, hash) => (err ? reject(err) : resolve(format(cost, salt, hash))));
  });
}

function format(cost: ScryptOptions, salt: Buffer, hash: Buffer): string {
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

function parse(stored: string): { cost: ScryptOptions; salt: Buffer; hash: Buffer } | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  return {
    cost: { N, r: Number(r), p: Number(p), maxmem: Math.max(32 * 1024 * 1024, 256 * N * Number(r)) },
    salt: Buffer.from(salt, 'base64url'),
    hash: Buffer.from(hash, 'base64url'),
  };
}

/** Constant-time check of a secret against a stored hash; runs scrypt off the event loop. */
export function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return Promise.resolve(false);
  return new Promise((resolve) => {
    scrypt(secret, parsed.salt, parsed.hash.length, parsed.cost, (err, derived) => {
      resolve(!err && derived.length === parsed.hash.length && timingSafeEqual(derived, parsed.hash));
    });
  });
}

/** A new random secret: 128 bits, base64url. */
export function newSecret(): string {
  return randomBytes(16).toString('base64url');
}
