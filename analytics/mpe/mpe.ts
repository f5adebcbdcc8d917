import table from './mpe-table.json' with { type: 'json' };
import type { Kind } from '../../ingest/readings.js';

export type MpeContext = 'verification' | 'in-service';

export interface MpeEntry {
  kind: Kind;
  class: string;
  band: string;
  context: MpeContext;
  /** fraction (unit 'relative') or multiple of e (unit 'e') */
  mpe: number;
  unit: 'relative' | 'e';
  source: string;
  unconfirmed: boolean;
}

export const MPE_TABLE: readonly MpeEntry[] = table.entries as MpeEntry[];

export interface Instrument {
  kind: Kind;
  accuracyClass: string;
  /** scale: eKg (verification scale interval, kg) */
  params: Record<string, number>;
}

const byKey = new Map<string, MpeEntry[]>();
for (const e of MPE_TABLE) {
  const key = `${e.kind}|${e.class}|${e.context}`;
  byKey.set(key, [...(byKey.get(key) ?? []), e]);
}

/** Bands like '0..500e' → [0, 500] in units of e. */
function bandRange(band: string): [number, number] | null {
  const m = /^(\d+(?:\.\d+)?)\.\.(\d+(?:\.\d+)?)e$/.exec(band);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * The relative MPE (a fraction) for a meter or dispenser in its main load band, or for a scale
 * at `loadKg`. Null when the table has no entry for the instrument's class: such instruments are
 * graded on data quality and tamper signs only, and the grade says so.
 */
export function relativeMpe(inst: Instrument, context: MpeContext = 'in-service', loadKg?: number): { mpe: number; entry: MpeEntry } | null {
  const entries = byKey.get(`${inst.kind}|${inst.accuracyClass}|${context}`) ?? (context === 'in-service' ? byKey.get(`${inst.kind}|${inst.accuracyClass}|verification`) : undefined);
  if (!entries || entries.length === 0) return null;
  if (inst.kind !== 'scale') {
    // the main (upper) band: the one that governs energy balance and dispensing at normal flow
    const entry = entries.find((e) => e.band.startsWith('Itr') || e.band.startsWith('0.') || e.band.startsWith('>=')) ?? (entries[0] as MpeEntry);
    return { mpe: entry.mpe, entry };
  }
  const eKg = inst.params['eKg'];
  if (!eKg || loadKg === undefined || loadKg <= 0) return null;
  const n = loadKg / eKg;
  const entry = entries.find((e) => {
    const r = bandRange(e.band);
    return r !== null && n >= r[0] && n <= r[1];
  });
  return entry ? { mpe: (entry.mpe * eKg) / loadKg, entry } : null;
}

/** Absolute MPE of a scale at a load, kg. */
export function scaleMpeKg(inst: Instrument, loadKg: number, context: MpeContext = 'in-service'): number | null {
  const r = relativeMpe(inst, context, loadKg);
  return r ? r.mpe * loadKg : null;
}
