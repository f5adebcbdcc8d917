import type { Accepted } from '../readings.js';

/** A reading's content: what a redelivery repeats and a reused seq changes. */
export interface ReadingContent {
  /** ms, device time */
  ts: number;
  fields: Readonly<Record<string, number>>;
  events: readonly string[];
}

/**
 * Whether two readings of one (device, seq) are the same reading: same ts, the same fields with
 * the same values, the same events in the same order. The receive time is not content: a QoS 1
 * redelivery arrives later with the same reading.
 */
export function sameReading(a: ReadingContent, b: ReadingContent): boolean {
  if (a.ts !== b.ts || a.events.length !== b.events.length) return false;
  for (let i = 0; i < a.events.length; i++) if (a.events[i] !== b.events[i]) return false;
  let n = 0;
  for (const k in a.fields) {
    if (a.fields[k] !== b.fields[k]) return false;
    n++;
  }
  for (const _ in b.fields) n--;
  return n === 0;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const SEED1 = 0x9747b28c;
const SEED2 = 0x5bd1e995;

/** one 32-bit word into a MurmurHash3 (x86, 32-bit) state */
function step(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function stringHash(x: string): number {
  let h = SEED1;
  for (let i = 0; i < x.length; i++) h = step(h, x.charCodeAt(i));
  return fmix(h ^ x.length);
}

/** field names are few (FIELDS), so their hashes are kept */
const nameHashes = new Map<string, number>();
function nameHash(name: string): number {
  let h = nameHashes.get(name);
  if (h === undefined) {
    h = stringHash(name);
    if (nameHashes.size < 1024) nameHashes.set(name, h);
  }
  return h;
}

/**
 * A 53-bit digest of a reading's content (ts, fields whatever their order, events in order), for a
 * store that keeps a digest rather than the reading to tell a redelivery from a reused seq. Two
 * MurmurHash3 lanes over the bits of the numbers, not their text: formatting doubles would cost
 * more than the rest of an append. Each field is hashed with its name and the fields' hashes are
 * summed, so their order does not matter. Not cryptographic, which is enough here: the digest is
 * only compared between readings of one device and seq, where a chance collision has odds of
 * about 2^-53, and a crafted one could only hide a device's own reading.
 */
export function contentDigest(r: Pick<Accepted, 'ts' | 'fields' | 'events'>): number {
  f64[0] = r.ts;
  let h1 = step(step(SEED1, u32[0] as number), u32[1] as number);
  let h2 = step(step(SEED2, u32[1] as number), u32[0] as number);
  let sum1 = 0;
  let sum2 = 0;
  let n = 0;
  for (const k in r.fields) {
    const name = nameHash(k);
    f64[0] = r.fields[k] as number;
    const lo = u32[0] as number;
    const hi = u32[1] as number;
    sum1 = (sum1 + fmix(step(step(step(SEED1, name), lo), hi))) | 0;
    sum2 = (sum2 + fmix(step(step(step(SEED2, hi), lo), name))) | 0;
    n++;
  }
  h1 = step(step(h1, sum1), n);
  h2 = step(step(h2, sum2), n);
  for (const e of r.events) {
    const eh = stringHash(e);
    h1 = step(h1, eh);
    h2 = step(h2, eh ^ 0x5555);
  }
  h1 = fmix(h1 ^ r.events.length);
  h2 = fmix(h2 ^ r.events.length);
  return 4294967296 * (h2 & 0x1fffff) + h1;
}
