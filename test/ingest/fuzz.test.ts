import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeviceState } from '../../ingest/device-health.js';
import { REJECT_REASONS } from '../../ingest/errors.js';
import { DEFAULT_LIMITS, parseReadings, type Parsed } from '../../ingest/parse.js';
import { KINDS, type Kind } from '../../ingest/readings.js';
import { READING_SCHEMAS } from '../../ingest/schemas.js';
import { DAY_MS, NOW, device, goodReading, json } from './helpers.js';

/**
 * Property-based fuzzing of the validator every device message passes through (fast-check,
 * fixed seeds so a failure reproduces): whatever the bytes, parsing never throws, every reading
 * is either accepted — and then it is a valid reading of its kind — or quarantined with a known
 * reason and a detail, and a batch loses none of its good readings to the bad ones beside it.
 */
const RUNS = { numRuns: 300, seed: 20261127 };
const reasons = new Set<string>(REJECT_REASONS);
/** the good readings of a mixed batch carry seq numbers from here, beyond any the junk draws */
const GOOD_SEQ = 8e15;

function parse(kind: Kind, payload: Buffer): Parsed {
  return parseReadings(device(`SH-X-${kind}`, kind), `devices/SH-X-${kind}/readings`, payload, NOW, NOW, DEFAULT_LIMITS, new DeviceState(`SH-X-${kind}`));
}

/** What must hold of any outcome: accepted readings are valid and in the window, rejections are explained, nothing is counted twice or dropped. */
function sound(kind: Kind, payload: Buffer, out: Parsed): void {
  for (const a of out.accepted) {
    expect(a.kind).toBe(kind);
    expect(Number.isInteger(a.seq)).toBe(true);
    expect(a.ts).toBeLessThanOrEqual(NOW + DEFAULT_LIMITS.futureToleranceMs);
    expect(a.ts).toBeGreaterThanOrEqual(NOW - DEFAULT_LIMITS.maxAgeMs);
    for (const v of Object.values(a.fields)) expect(Number.isFinite(v)).toBe(true);
  }
  for (const r of out.rejected) {
    expect(reasons.has(r.reason)).toBe(true);
    expect(r.detail.length).toBeGreaterThan(0);
    expect(r.readings ?? 1).toBeGreaterThanOrEqual(1);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const elements = Array.isArray(parsed) && parsed.length <= DEFAULT_LIMITS.maxBatchReadings && payload.length <= DEFAULT_LIMITS.maxPayloadBytes ? parsed.length : 1;
  expect(out.accepted.length + out.rejected.reduce((n, r) => n + (r.readings ?? 1), 0)).toBe(elements);
}

const kind = fc.constantFrom(...KINDS);

/** a good reading of the kind with some of its fields replaced by anything JSON can carry (times near now among them), or removed */
const mangled = (k: Kind) =>
  fc
    .tuple(
      fc.integer({ min: 1, max: 1e9 }),
      fc.dictionary(fc.constantFrom('ts', 'seq', ...Object.keys(goodReading[k](1)), 'extra', '__proto__', 'constructor'), fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.double(), fc.integer({ min: NOW - 200 * DAY_MS, max: NOW + 200 * DAY_MS }))),
    )
    .map(([seq, patch]) => {
      const r: Record<string, unknown> = { ...goodReading[k](seq) };
      for (const [key, v] of Object.entries(patch)) {
        if (v === undefined) delete r[key];
        else r[key] = v;
      }
      return r;
    });

describe('ingest validation under fuzzing', () => {
  it('takes any bytes without throwing, and explains every rejection', () => {
    fc.assert(
      fc.property(kind, fc.uint8Array({ maxLength: 2048 }), (k, bytes) => {
        const payload = Buffer.from(bytes);
        sound(k, payload, parse(k, payload));
      }),
      RUNS,
    );
  });

  it('takes any JSON value, and accepts only what its kind’s schema accepts', () => {
    fc.assert(
      fc.property(kind, fc.jsonValue({ maxDepth: 4 }), (k, v) => {
        const payload = json(v);
        const out = parse(k, payload);
        sound(k, payload, out);
        if (!Array.isArray(v) && out.accepted.length === 1) expect(READING_SCHEMAS[k].safeParse(v).success).toBe(true);
      }),
      RUNS,
    );
  });

  it('accepts a mangled reading only if it is still a valid one, and quarantines it otherwise', () => {
    fc.assert(
      fc.property(
        kind.chain((k) => fc.tuple(fc.constant(k), mangled(k))),
        ([k, r]) => {
          const payload = json(r);
          const out = parse(k, payload);
          sound(k, payload, out);
          const valid = READING_SCHEMAS[k].safeParse(JSON.parse(payload.toString('utf8'))).success;
          const inWindow = typeof r['ts'] === 'number' && r['ts'] <= NOW + DEFAULT_LIMITS.futureToleranceMs && r['ts'] >= NOW - DEFAULT_LIMITS.maxAgeMs;
          expect(out.accepted.length).toBe(valid && inWindow ? 1 : 0);
        },
      ),
      RUNS,
    );
  });

  it('keeps every good reading of a batch whatever bad ones are mixed in, in their order', () => {
    fc.assert(
      fc.property(
        kind.chain((k) => fc.tuple(fc.constant(k), fc.array(fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 2 }), mangled(k)), { maxLength: 20 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 20 }))),
        ([k, junk, at]) => {
          // good readings at random places among the junk, seq numbers beyond any the junk draws
          const batch: unknown[] = [...junk];
          const good = at.map((p, i) => goodReading[k](GOOD_SEQ + i, NOW - (i + 1) * 1000));
          at.forEach((p, i) => batch.splice(Math.min(p, batch.length), 0, good[i]));
          const payload = json(batch);
          fc.pre(payload.length <= DEFAULT_LIMITS.maxPayloadBytes);
          const out = parse(k, payload);
          sound(k, payload, out);
          const kept = out.accepted.filter((a) => a.seq >= GOOD_SEQ).map((a) => a.seq);
          const expected = batch.filter((x) => good.includes(x as (typeof good)[number])).map((x) => (x as { seq: number }).seq);
          expect(kept).toEqual(expected);
        },
      ),
      RUNS,
    );
  });

  it('quarantines an oversize payload or batch whole, unparsed', () => {
    const k: Kind = 'meter';
    const many = Array.from({ length: DEFAULT_LIMITS.maxBatchReadings + 1 }, (_, i) => ({ ts: NOW - DAY_MS, seq: i + 1, energyWh: i, powerW: 1 }));
    const big = Buffer.concat([json(many), Buffer.alloc(DEFAULT_LIMITS.maxPayloadBytes)]);
    const out = parse(k, big);
    expect(out.accepted).toEqual([]);
    expect(out.rejected.map((r) => r.reason)).toEqual(['ING_PAYLOAD_OVERSIZE']);
    // within the size limit, more elements than a batch may hold
    const crowd = parse(k, json(Array.from({ length: DEFAULT_LIMITS.maxBatchReadings + 1 }, () => 0)));
    expect(crowd.accepted).toEqual([]);
    expect(crowd.rejected.map((r) => r.reason)).toEqual(['ING_BATCH_TOO_LARGE']);
  });
});
