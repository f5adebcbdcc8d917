import { mulberry32, uniformInt } from './rng.js';

/**
 * Seeded random selection that anyone can re-derive from (seed, method, member ids):
 * sort the lot's member ids by UTF-16 code units (JavaScript's default sort), then a partial
 * Fisher–Yates shuffle: for i = 0 … n−1, j = i + uniform(N − i) from Mulberry32(seed) with the
 * bias-free rejection of `uniformInt`, swap positions i and j; the sample is positions 0 … n−1,
 * in draw order.
 */
export const SELECTION_METHOD = 'sorted-ids/partial-fisher-yates/mulberry32/rejection-uniform/v1';

export function selectSample(memberIds: readonly string[], n: number, seed: number): string[] {
  const ids = [...memberIds].sort();
  const next = mulberry32(seed);
  const take = Math.min(n, ids.length);
  for (let i = 0; i < take; i++) {
    const j = i + uniformInt(next, ids.length - i);
    const t = ids[i] as string;
    ids[i] = ids[j] as string;
    ids[j] = t;
  }
  return ids.slice(0, take);
}

export interface RouteItem {
  deviceId: string;
  site: string;
}

/** Orders a list for a day's route: grouped by site (sites in name order), instruments by id within a site. */
export function byRoute<T extends RouteItem>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
}
