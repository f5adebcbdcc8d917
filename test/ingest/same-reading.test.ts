import { describe, expect, it } from 'vitest';
import { contentDigest, sameReading } from '../../ingest/store/same-reading.js';

const a = { ts: 1_700_000_000_000, fields: { energyWh: 1_234_567.5, powerW: 812.4, voltageV: 229.8 }, events: ['cover_open', 'magnetic'] };

describe('telling a redelivery from a reused seq', () => {
  it('sameReading compares ts, fields whatever their order, and events in order', () => {
    expect(sameReading(a, { ...a, fields: { voltageV: 229.8, powerW: 812.4, energyWh: 1_234_567.5 } })).toBe(true);
    expect(sameReading(a, { ...a, ts: a.ts + 1 })).toBe(false);
    expect(sameReading(a, { ...a, fields: { ...a.fields, powerW: 812.5 } })).toBe(false);
    expect(sameReading(a, { ...a, fields: { energyWh: 1_234_567.5, powerW: 812.4 } })).toBe(false);
    expect(sameReading(a, { ...a, fields: { ...a.fields, currentA: 1 } })).toBe(false);
    expect(sameReading(a, { ...a, events: ['magnetic', 'cover_open'] })).toBe(false);
    expect(sameReading(a, { ...a, events: [] })).toBe(false);
  });

  it('contentDigest agrees with sameReading on these cases, and is a safe integer', () => {
    const d = contentDigest(a);
    expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
    expect(contentDigest({ ...a, fields: { voltageV: 229.8, powerW: 812.4, energyWh: 1_234_567.5 } })).toBe(d);
    const others = [
      { ...a, ts: a.ts + 1 },
      { ...a, fields: { ...a.fields, powerW: 812.5 } },
      { ...a, fields: { energyWh: 1_234_567.5, powerW: 812.4 } },
      { ...a, fields: { ...a.fields, currentA: 1 } },
      // the same values under other names
      { ...a, fields: { energyWh: 812.4, powerW: 1_234_567.5, voltageV: 229.8 } },
      { ...a, events: ['magnetic', 'cover_open'] },
      { ...a, events: ['cover_open'] },
      { ...a, events: [] },
    ];
    const digests = others.map(contentDigest);
    expect(digests).not.toContain(d);
    expect(new Set(digests).size).toBe(others.length);
  });

  it('contentDigest spreads near-identical readings', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100_000; i++) seen.add(contentDigest({ ts: a.ts + (i % 317), fields: { energyWh: 1_000_000 + i * 0.1, powerW: i % 1000 }, events: [] }));
    expect(seen.size).toBe(100_000);
  });
});
