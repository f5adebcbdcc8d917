import { describe, expect, it } from 'vitest';
import { READING_SCHEMAS } from '../../ingest/schemas.js';
import { classifyIssues } from '../../ingest/classify.js';
import type { Kind } from '../../ingest/readings.js';
import { goodReading } from './helpers.js';

function verdict(kind: Kind, value: unknown): string {
  const r = READING_SCHEMAS[kind].safeParse(value);
  return r.success ? 'ok' : classifyIssues(r.error.issues).reason;
}

describe('reading schemas', () => {
  it('accept a good reading of every kind', () => {
    for (const kind of ['meter', 'dispenser', 'tank', 'scale'] as const) expect(verdict(kind, goodReading[kind](1))).toBe('ok');
  });

  it.each([
    ['unknown key', 'meter', { ...goodReading.meter(1), powerKW: 1 }],
    ['missing field', 'meter', { ts: 1.7e12, seq: 1, energyWh: 1 }],
    ['string number', 'meter', { ...goodReading.meter(1), powerW: '850' }],
    ['unknown event', 'meter', { ...goodReading.meter(1), events: ['seal_open'] }],
    ['fractional seq', 'tank', { ...goodReading.tank(1), seq: 1.5 }],
    ['fractional nozzle', 'dispenser', { ...goodReading.dispenser(1), nozzle: 1.5 }],
    ['fractional pulses', 'dispenser', { ...goodReading.dispenser(1), pulses: 10.5 }],
    ['check reference without indication', 'scale', { ts: 1.7e12, seq: 1, zeroKg: 0, checkRefKg: 10 }],
    ['check indication without reference', 'scale', { ts: 1.7e12, seq: 1, zeroKg: 0, checkIndicatedKg: 10 }],
    ['not an object', 'scale', 42],
    ['null', 'tank', null],
    ['type mismatch and bound together', 'meter', { ...goodReading.meter(1), powerW: 'x', voltageV: 5000 }],
  ] as const)('schema violation: %s', (_, kind, value) => {
    expect(verdict(kind, value)).toBe('ING_SCHEMA_INVALID');
  });

  it.each([
    ['ts in seconds', 'meter', { ...goodReading.meter(1), ts: 1_717_200_000 }],
    ['negative energy', 'meter', { ...goodReading.meter(1), energyWh: -1 }],
    ['energy register overflow', 'meter', { ...goodReading.meter(1), energyWh: 1e13 }],
    ['power beyond an LV transformer', 'meter', { ...goodReading.meter(1), powerW: 3e6 }],
    ['medium voltage', 'meter', { ...goodReading.meter(1), voltageV: 10_000 }],
    ['zero transaction volume', 'dispenser', { ...goodReading.dispenser(1), volumeL: 0 }],
    ['tanker-sized transaction', 'dispenser', { ...goodReading.dispenser(1), volumeL: 2000.5 }],
    ['temperature in kelvin', 'dispenser', { ...goodReading.dispenser(1), temperatureC: 291 }],
    ['arctic', 'tank', { ...goodReading.tank(1), temperatureC: -51 }],
    ['level beyond any tank', 'tank', { ...goodReading.tank(1), levelMm: 5001 }],
    ['zero off by a tonne', 'scale', { ...goodReading.scale(1), zeroKg: -1000.1 }],
    ['tilt past vertical', 'scale', { ...goodReading.scale(1), tiltDeg: 91 }],
    ['negative seq', 'meter', { ...goodReading.meter(-1) }],
    ['infinite value', 'meter', JSON.parse('{"ts":1717200000000,"seq":1,"energyWh":1e999,"powerW":1}')],
  ] as const)('absurd value: %s', (_, kind, value) => {
    expect(verdict(kind, value)).toBe('ING_VALUE_ABSURD');
  });

  it('bounds are inclusive where the contract says so', () => {
    expect(verdict('dispenser', { ...goodReading.dispenser(1), volumeL: 2000 })).toBe('ok');
    expect(verdict('scale', { ...goodReading.scale(1), tiltDeg: 90 })).toBe('ok');
    expect(verdict('tank', { ...goodReading.tank(1), temperatureC: -50 })).toBe('ok');
    expect(verdict('meter', { ...goodReading.meter(1), ts: 1e12 })).toBe('ok');
  });

  it('keeps the detail short and names the path', () => {
    const r = READING_SCHEMAS.meter.safeParse({ ...goodReading.meter(1), powerW: -5 });
    expect(r.success).toBe(false);
    if (!r.success) expect(classifyIssues(r.error.issues).detail).toMatch(/^powerW: /);
    const many = READING_SCHEMAS.meter.safeParse(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])));
    if (!many.success) expect(classifyIssues(many.error.issues).detail.length).toBeLessThanOrEqual(500);
  });
});
