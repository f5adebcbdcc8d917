import { createHash } from 'node:crypto';
import type { Kind, Region } from '../../ingest/readings.js';

/**
 * Lot formation (DOMAIN.md §5; §35 MessEV: lot = one design; Austria: last-verification years
 * within 2 years of each other): in-service instruments of the same kind, model, accuracy class
 * and region whose reference date (last verification, else installation) lies within
 * `windowYears` of the lot's earliest member. Instruments of a failed lot never join a new lot.
 */
export interface LotCandidate {
  id: string;
  kind: Kind;
  model: string;
  accuracyClass: string;
  region: Region;
  site: string;
  /** ISO date */
  installDate: string;
  /** ISO date of the last verification, if any */
  lastVerified?: string | undefined;
  status: string;
}

export interface FormedLot {
  /** stable: derived from the grouping key and the member ids */
  id: string;
  kind: Kind;
  model: string;
  accuracyClass: string;
  region: Region;
  /** ISO dates: earliest and latest reference date of the members */
  from: string;
  to: string;
  memberIds: string[];
}

export interface LotFormOptions {
  /** years (default 2) */
  windowYears?: number;
  /** ids of instruments that belonged to a failed lot */
  excluded?: ReadonlySet<string>;
  /** ids already in an open lot */
  taken?: ReadonlySet<string>;
}

const YEAR_MS = 365.2425 * 86_400_000;

export const referenceDate = (c: LotCandidate) => c.lastVerified ?? c.installDate;

export function formLots(candidates: readonly LotCandidate[], o: LotFormOptions = {}): FormedLot[] {
  const window = (o.windowYears ?? 2) * YEAR_MS;
  const groups = new Map<string, LotCandidate[]>();
  for (const c of candidates) {
    if (c.status !== 'active' || o.excluded?.has(c.id) || o.taken?.has(c.id)) continue;
    const key = JSON.stringify([c.kind, c.model, c.accuracyClass, c.region]);
    const g = groups.get(key);
    if (g) g.push(c);
    else groups.set(key, [c]);
  }
  const lots: FormedLot[] = [];
  for (const [key, members] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    members.sort((a, b) => Date.parse(referenceDate(a)) - Date.parse(referenceDate(b)) || (a.id < b.id ? -1 : 1));
    let start = 0;
    for (let i = 1; i <= members.length; i++) {
      const first = members[start] as LotCandidate;
      const cur = members[i];
      if (cur && Date.parse(referenceDate(cur)) - Date.parse(referenceDate(first)) <= window) continue;
      const part = members.slice(start, i);
      const ids = part.map((m) => m.id).sort();
      lots.push({
        id: `lot-${createHash('sha256').update(key).update('\n').update(ids.join('\n')).digest('hex').slice(0, 16)}`,
        kind: first.kind,
        model: first.model,
        accuracyClass: first.accuracyClass,
        region: first.region,
        from: referenceDate(first),
        to: referenceDate(part.at(-1) as LotCandidate),
        memberIds: ids,
      });
      start = i;
    }
  }
  return lots;
}
