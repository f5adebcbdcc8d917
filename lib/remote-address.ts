import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key a connection counts against for the per-address connection cap: the IPv4 address, or
 * the /64 prefix of an IPv6 address (a single host is routinely given a whole /64, so counting
 * full IPv6 addresses would let one host open a connection from each of them). An IPv4 address
 * mapped into IPv6 (`::ffff:192.0.2.1`, as a dual-stack listener reports it) counts as the IPv4
 * address. Undefined when there is no address to count (a stream that is not a socket, or a
 * socket that already closed).
 */
export function addressKey(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  const zone = address.indexOf('%');
  const a = zone === -1 ? address : address.slice(0, zone);
  if (isIPv4(a)) return a;
  if (!isIPv6(a)) return a;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1];
  return `${ipv6Groups(a).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as lowercase hex without leading zeros. */
function ipv6Groups(a: string): string[] {
  const [head = '', tail] = a.split('::');
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return all.map((g) => parseInt(g, 16).toString(16));
}

/** Whether a peer address is loopback: 127/8, ::1, or 127/8 mapped into IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  return /^127\./.test(a) || /^::ffff:127\./.test(a) || a === '::1';
}

/** What connectionCap's `admit` decided for one connection. */
export interface Admission {
  /** the key the connection counts against (addressKey), computed once here for the caller's log lines too */
  address: string | undefined;
  /** to call when the connection closes; null when its address is at the cap */
  release: (() => void) | null;
}

/**
 * Open connections counted per address (addressKey: an IPv6 /64 as one) against a cap, for the
 * MQTT and HTTP listeners alike. `admit` counts a connection and returns its address key with the
 * function to call when it closes, or with null when its address is at the cap. A peer with no
 * address, a loopback peer (when `loopbackExempt`) and any peer under a cap of 0 pass uncounted.
 */
export function connectionCap(max: number, loopbackExempt: boolean): { admit(peer: string | undefined): Admission } {
  const open = new Map<string, number>();
  const free = () => {};
  return {
    admit(peer) {
      const key = addressKey(peer);
      if (key === undefined || max <= 0 || (loopbackExempt && isLoopback(peer))) return { address: key, release: free };
      const n = open.get(key) ?? 0;
      if (n >= max) return { address: key, release: null };
      open.set(key, n + 1);
      let released = false;
      return {
        address: key,
        release: () => {
          if (released) return;
          released = true;
          const left = (open.get(key) ?? 1) - 1;
          if (left > 0) open.set(key, left);
          else open.delete(key);
        },
      };
    },
  };
}
