import { randomBytes, createHash, type ScryptOptions } from 'node:crypto';
import { addColumnIfMissing, type Db } from '../lib/sqlite.js';
import type { Kind, Region } from '../lib/domain.js';
import { DeviceInput, UserInput, type Role } from './schema.js';
import { RegistryErrors } from './errors.js';
import { DEVICE_SECRET_COST, PASSWORD_COST, hashSecret, hashSecretAsync, newSecret, verifySecret } from './secrets.js';

export interface Device {
  id: string;
  kind: Kind;
  model: string;
  accuracyClass: string;
  region: Region;
  site: string;
  role: string;
  installDate: string;
  params: Record<string, number>;
  status: 'active' | 'suspended' | 'replaced';
  /** ms */
  createdAt: number;
}

export interface User {
  username: string;
  role: Role;
  regions: Region[];
  displayName: string | null;
}

export interface DeviceFilter {
  region?: readonly Region[] | undefined;
  kind?: Kind | undefined;
  site?: string | undefined;
}

interface DeviceRow {
  id: string;
  kind: string;
  model: string;
  accuracy_class: string;
  region: string;
  site: string;
  role: string;
  install_date: string;
  params: string;
  status: string;
  created_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  model TEXT NOT NULL,
  accuracy_class TEXT NOT NULL,
  region TEXT NOT NULL,
  site TEXT NOT NULL,
  role TEXT NOT NULL,
  install_date TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  secret_hash TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_region ON devices(region, kind);
CREATE INDEX IF NOT EXISTS devices_site ON devices(site);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  regions TEXT NOT NULL,
  display_name TEXT,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(username, expires_at);
`;

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    kind: r.kind as Kind,
    model: r.model,
    accuracyClass: r.accuracy_class,
    region: r.region as Region,
    site: r.site,
    role: r.role,
    installDate: r.install_date,
    params: JSON.parse(r.params) as Record<string, number>,
    status: r.status as Device['status'],
    createdAt: r.created_at,
  };
}

/** The columns of a user's row that a password check reads. */
interface UserSecretRow {
  password_hash: string;
  disabled: number;
}

/** sessions one user may hold at once; a new login past it ends their oldest */
export const MAX_SESSIONS_PER_USER = 20;

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * Devices, users and sessions. Secrets and passwords are kept only as salted scrypt hashes.
 * Statements are prepared once, here; nothing is cached, so another process (the CLI) changing a
 * device or a user is seen by the next check.
 */
export class Registry {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #st;

  constructor(db: Db, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    db.exec(SCHEMA);
    // registries created before users could be disabled
    addColumnIfMissing(db, 'users', 'disabled', 'INTEGER NOT NULL DEFAULT 0');
    this.#st = {
      insertDevice: db.prepare(`INSERT INTO devices (id, kind, model, accuracy_class, region, site, role, install_date, params, secret_hash, status, created_at)
        VALUES (@id, @kind, @model, @accuracyClass, @region, @site, @role, @installDate, @params, @secretHash, 'active', @createdAt)`),
      upsertDevice: db.prepare(`INSERT INTO devices (id, kind, model, accuracy_class, region, site, role, install_date, params, secret_hash, status, created_at)
        VALUES (@id, @kind, @model, @accuracyClass, @region, @site, @role, @installDate, @params, @secretHash, 'active', @createdAt)
        ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, model=excluded.model, accuracy_class=excluded.accuracy_class, region=excluded.region,
          site=excluded.site, role=excluded.role, install_date=excluded.install_date, params=excluded.params, secret_hash=excluded.secret_hash`),
      getDevice: db.prepare(`SELECT * FROM devices WHERE id = ?`),
      setStatus: db.prepare(`UPDATE devices SET status = ? WHERE id = ?`),
      setSecret: db.prepare(`UPDATE devices SET secret_hash = ? WHERE id = ?`),
      setDisabled: db.prepare(`UPDATE users SET disabled = ? WHERE username = ?`),
      endSessions: db.prepare(`DELETE FROM sessions WHERE username = ?`),
      insertUser: db.prepare(`INSERT INTO users (username, password_hash, role, regions, display_name, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      getUser: db.prepare(`SELECT * FROM users WHERE username = ?`),
      setPassword: db.prepare(`UPDATE users SET password_hash = ? WHERE username = ?`),
      countUsers: db.prepare(`SELECT count(*) AS n FROM users`),
      insertSession: db.prepare(`INSERT INTO sessions (token_hash, username, expires_at) VALUES (?, ?, ?)`),
      getSession: db.prepare(`SELECT s.expires_at, u.* FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ? AND u.disabled = 0`),
      deleteSession: db.prepare(`DELETE FROM sessions WHERE token_hash = ?`),
      purgeSessions: db.prepare(`DELETE FROM sessions WHERE expires_at < ?`),
      // a user's sessions beyond the newest MAX_SESSIONS_PER_USER (by expiry: all have the same lifetime)
      trimSessions: db.prepare(`DELETE FROM sessions WHERE username = ? AND token_hash NOT IN (SELECT token_hash FROM sessions WHERE username = ? ORDER BY expires_at DESC, rowid DESC LIMIT ${MAX_SESSIONS_PER_USER})`),
    };
  }

  // ---- devices

  /** Validates and stores a new device; returns it with its secret, which is not kept and shown only now. */
  addDevice(input: unknown): { device: Device; secret: string } {
    const parsed = DeviceInput.safeParse(input);
    if (!parsed.success) throw RegistryErrors.make('REG_DEVICE_INVALID', parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const d = parsed.data;
    if (this.#st.getDevice.get(d.id)) throw RegistryErrors.make('REG_DEVICE_EXISTS', d.id);
    const secret = newSecret();
    this.#st.insertDevice.run({ ...d, params: JSON.stringify(d.params), secretHash: hashSecret(secret, DEVICE_SECRET_COST), createdAt: this.#now() });
    return { device: this.getDevice(d.id) as Device, secret };
  }

  /** Inserts or replaces many devices with the secrets given (the simulator mints its own), in one transaction. */
  upsertDevices(items: readonly { input: DeviceInput; secret: string }[]): void {
    const now = this.#now();
    const rows = items.map(({ input, secret }) => {
      const d = DeviceInput.parse(input);
      return { ...d, params: JSON.stringify(d.params), secretHash: hashSecret(secret, DEVICE_SECRET_COST), createdAt: now };
    });
    this.#db.transaction(() => {
      for (const r of rows) this.#st.upsertDevice.run(r);
    })();
  }

  getDevice(id: string): Device | null {
    const row = this.#st.getDevice.get(id) as DeviceRow | undefined;
    return row ? toDevice(row) : null;
  }

  /**
   * Checks a device's credentials. Resolves to the device when they match and it is active. The
   * row is read afresh for every check (one indexed read beside a scrypt: no cache to go stale
   * when another process, the CLI, suspends a device or rotates its secret), and read again after
   * the secret check: a suspension or rotation that lands while the check runs is not outraced.
   */
  async authenticateDevice(id: string, secret: string): Promise<Device | null> {
    const row = this.#st.getDevice.get(id) as (DeviceRow & { secret_hash: string }) | undefined;
    // the same work for an unknown id as for a wrong secret: timing does not tell which ids exist
    if (!row) return (await verifySecret(secret, dummyFor(DEVICE_SECRET_COST)), null);
    const ok = await verifySecret(secret, row.secret_hash);
    if (!ok) return null;
    const now = this.#st.getDevice.get(id) as (DeviceRow & { secret_hash: string }) | undefined;
    if (!now || now.secret_hash !== row.secret_hash || now.status !== 'active') return null;
    return toDevice(now);
  }

  setDeviceStatus(id: string, status: Device['status']): void {
    if (this.#st.setStatus.run(status, id).changes === 0) throw RegistryErrors.make('REG_DEVICE_NOT_FOUND', id);
    this.#changed(id, status !== 'active');
  }

  /** Issues a new secret for a device (the old one stops working at once); shown only now. */
  rotateDeviceSecret(id: string): string {
    const secret = newSecret();
    if (this.#st.setSecret.run(hashSecret(secret, DEVICE_SECRET_COST), id).changes === 0) throw RegistryErrors.make('REG_DEVICE_NOT_FOUND', id);
    this.#changed(id, true);
    return secret;
  }

  readonly #listeners = new Set<(deviceId: string, revoked: boolean) => void>();
  /**
   * Called after a device's credentials or status change, `revoked` when the change withdraws
   * them (suspended, replaced, a new secret): a live connection made with the old ones must not
   * outlast them (the broker closes it; CONNECT then checks afresh).
   */
  onDeviceChange(l: (deviceId: string, revoked: boolean) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  #changed(id: string, revoked: boolean): void {
    for (const l of this.#listeners) l(id, revoked);
  }

  /** Keyset-paged list ordered by id. */
  listDevices(filter: DeviceFilter, limit: number, cursor?: string): { items: Device[]; total: number; nextCursor: string | null } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.region) {
      if (filter.region.length === 0) return { items: [], total: 0, nextCursor: null };
      where.push(`region IN (${filter.region.map(() => '?').join(',')})`);
      args.push(...filter.region);
    }
    if (filter.kind) (where.push('kind = ?'), args.push(filter.kind));
    if (filter.site) (where.push('site = ?'), args.push(filter.site));
    const base = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM devices ${base}`).get(...args) as { n: number }).n;
    const pageWhere = cursor ? `${base ? `${base} AND` : 'WHERE'} id > ?` : base;
    const rows = this.#db
      .prepare(`SELECT * FROM devices ${pageWhere} ORDER BY id LIMIT ?`)
      .all(...args, ...(cursor ? [cursor] : []), limit + 1) as DeviceRow[];
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map(toDevice);
    return { items, total, nextCursor: more ? (items.at(-1)?.id ?? null) : null };
  }

  /** The instruments of one site (transformer area, station, market): the unit analytics works on. */
  devicesOfSite(site: string): Device[] {
    return (this.#db.prepare(`SELECT * FROM devices WHERE site = ? ORDER BY id`).all(site) as DeviceRow[]).map(toDevice);
  }

  /** Every device, for analytics warm-up and lot formation. */
  allDevices(): Device[] {
    return (this.#db.prepare(`SELECT * FROM devices ORDER BY id`).all() as DeviceRow[]).map(toDevice);
  }

  // ---- users and sessions

  /** Validates and stores a new user; the password is hashed off the event loop, as setPassword does. */
  async addUser(input: unknown): Promise<User> {
    const parsed = UserInput.safeParse(input);
    if (!parsed.success) throw RegistryErrors.make('REG_USER_INVALID', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const u = parsed.data;
    const hash = await hashSecretAsync(u.password, PASSWORD_COST);
    // checked after the hash, in the same turn as the insert: an add of the same name that lands
    // while the hash runs is then a REG_USER_EXISTS, not a primary key violation
    if (this.#st.getUser.get(u.username)) throw RegistryErrors.make('REG_USER_EXISTS', u.username);
    this.#st.insertUser.run(u.username, hash, u.role, JSON.stringify(u.regions), u.displayName ?? null, this.#now());
    return { username: u.username, role: u.role, regions: u.regions, displayName: u.displayName ?? null };
  }

  userCount(): number {
    return (this.#st.countUsers.get() as { n: number }).n;
  }

  /** Sets a user's password and ends their sessions (a password changed because it leaked must not leave one open). */
  async setPassword(username: string, password: string): Promise<void> {
    const hash = await hashSecretAsync(password, PASSWORD_COST);
    if (this.#st.setPassword.run(hash, username).changes === 0) throw RegistryErrors.make('REG_USER_NOT_FOUND', username);
    this.#st.endSessions.run(username);
  }

  /** Disables (or re-enables) a user: a disabled user cannot log in and their sessions end at once. */
  setUserDisabled(username: string, disabled: boolean): void {
    if (this.#st.setDisabled.run(disabled ? 1 : 0, username).changes === 0) throw RegistryErrors.make('REG_USER_NOT_FOUND', username);
    if (disabled) this.#st.endSessions.run(username);
  }

  getUser(username: string): (User & { disabled: boolean }) | null {
    const r = this.#st.getUser.get(username) as { username: string; role: Role; regions: string; display_name: string | null; disabled: number } | undefined;
    return r ? { username: r.username, role: r.role, regions: JSON.parse(r.regions) as Region[], displayName: r.display_name, disabled: r.disabled === 1 } : null;
  }

  /**
   * The user's row when the password matches and the user is enabled, else null. An unknown user
   * is checked against a dummy hash so timing does not reveal which names exist.
   */
  async #passwordMatches(username: string, password: string): Promise<UserSecretRow | null> {
    const row = this.#st.getUser.get(username) as UserSecretRow | undefined;
    const ok = await verifySecret(password, row?.password_hash ?? dummyFor(PASSWORD_COST));
    return ok && row !== undefined && row.disabled === 0 ? row : null;
  }

  /** Checks a user's current password (for a change of one's own password) without opening a session. */
  async checkPassword(username: string, password: string): Promise<boolean> {
    return (await this.#passwordMatches(username, password)) !== null;
  }

  /** Verifies a password and opens a session; resolves to a bearer token, or null. */
  async login(username: string, password: string, ttlMs = 12 * 3600_000): Promise<{ token: string; user: User } | null> {
    const row = await this.#passwordMatches(username, password);
    if (!row) return null;
    // read again after the check: a password reset or a disabling that landed while it ran (and
    // ended the user's sessions) must not be followed by a new session on the old password
    const now = this.#st.getUser.get(username) as UserSecretRow | undefined;
    if (!now || now.password_hash !== row.password_hash || now.disabled === 1) return null;
    const token = randomBytes(32).toString('base64url');
    this.#st.purgeSessions.run(this.#now());
    this.#st.insertSession.run(sha256(token), username, this.#now() + ttlMs);
    // bounded: logging in again and again ends the oldest sessions instead of growing the table
    this.#st.trimSessions.run(username, username);
    return { token, user: this.sessionUser(token) as User };
  }

  sessionUser(token: string): User | null {
    const row = this.#st.getSession.get(sha256(token)) as
      | { expires_at: number; username: string; role: Role; regions: string; display_name: string | null }
      | undefined;
    if (!row || row.expires_at < this.#now()) return null;
    return { username: row.username, role: row.role, regions: JSON.parse(row.regions) as Region[], displayName: row.display_name };
  }

  logout(token: string): void {
    this.#st.deleteSession.run(sha256(token));
  }
}

/**
 * A hash of a random secret at the given cost, made on first use (never at import), so checking an
 * unknown name costs what checking a known one does.
 */
const dummies = new Map<number | undefined, string>();
function dummyFor(cost: ScryptOptions): string {
  let h = dummies.get(cost.N);
  if (h === undefined) dummies.set(cost.N, (h = hashSecret(randomBytes(12).toString('hex'), cost)));
  return h;
}
