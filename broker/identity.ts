import { createHash, timingSafeEqual } from 'node:crypto';
import type { Device } from '../registry/registry.js';
import { deviceTopics, type DeviceTopics } from './topics.js';

/** The narrow slice of the registry the broker needs (registry/registry.ts Registry satisfies it). */
export interface DeviceAuthenticator {
  /** Resolves to the device when the id exists, is active and the secret matches; null otherwise. */
  authenticateDevice(id: string, secret: string): Promise<Device | null>;
  /**
   * Tells the broker when a device's status or secret changes (`revoked` when the change withdraws
   * its credentials), so a connection made with the old ones is closed (CONNECT then checks
   * afresh); returns the unsubscribe function.
   */
  onDeviceChange?(listener: (deviceId: string, revoked: boolean) => void): () => void;
}

/** An internal client (ingest workers, alerting, the dashboard's live view). */
export interface ServiceAccount {
  username: string;
  secret: string;
}

/**
 * Who an authenticated connection is. Kept beside the aedes client, never on it. A device whose
 * credentials were withdrawn while it was connected becomes `revoked` before the broker closes
 * its connection: aedes publishes a will as it closes one, through authorizePublish, and the
 * identity is what that check reads, so the will is refused like anything else sent afterwards.
 */
export type Identity =
  | { readonly kind: 'device'; readonly device: Device; readonly topics: DeviceTopics }
  | { readonly kind: 'revoked'; readonly device: Device }
  | { readonly kind: 'service'; readonly username: string };

export function deviceIdentity(device: Device): Identity {
  return { kind: 'device', device, topics: deviceTopics(device.id) };
}

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/**
 * Service-account check. Secrets are compared as sha256 digests with timingSafeEqual: equal-length
 * inputs make the comparison constant-time whatever the length of the offered password.
 * Digests of the configured secrets are computed once, here.
 */
export class ServiceAccounts {
  readonly #digests: ReadonlyMap<string, Buffer>;

  constructor(accounts: readonly ServiceAccount[]) {
    this.#digests = new Map(accounts.map((a) => [a.username, digest(a.secret)]));
  }

  has(username: string): boolean {
    return this.#digests.has(username);
  }

  verify(username: string, password: Buffer): boolean {
    const expected = this.#digests.get(username);
    return expected !== undefined && timingSafeEqual(expected, digest(password));
  }
}
