import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAnalytics } from '../../analytics/engine.js';
import { buildFleet } from '../../devices-sim/fleet.js';
import { DeviceState } from '../../ingest/device-health.js';
import { DEFAULT_LIMITS, parseReadings } from '../../ingest/parse.js';
import type { Accepted } from '../../ingest/readings.js';
import { ManualClock } from '../../lib/clock.js';
import { openDb } from '../../lib/sqlite.js';
import type { Device } from '../../registry/registry.js';
import { DAY, scenario } from '../devices-sim/helpers.js';

/**
 * The analytics fuzzed with readings that pass validation but make no physical sense together:
 * registers running backwards, timestamps out of order, repeated and far apart, a transaction
 * bigger than its tank, check weights read wildly. Each message goes through ingest's own
 * validator, as in the platform. The analytics must never throw (it runs on the ingest path: a
 * throw would stop the platform taking readings), and what it reports must stay numbers a page
 * can show: finite estimates or none, probabilities in [0, 1], a grade.
 */
/** the simulator tests' small fleet with one small area: a head and four customers, a station of two tanks, a market of four scales */
const SMALL = scenario({ days: 10, areas: { count: 1, metersPerArea: [4, 4], intervalMin: 60, lossPct: [3, 5] } });
const fleet = buildFleet(SMALL, 0);
const devices: Device[] = fleet.devices.map((d) => ({ ...d.record, status: 'active', createdAt: 0 }));
const bySite = new Map<string, Device[]>();
for (const d of devices) bySite.set(d.site, [...(bySite.get(d.site) ?? []), d]);
const T0 = fleet.startMs;

const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const fieldsOf: Record<Device['kind'], fc.Arbitrary<Record<string, unknown>>> = {
  meter: fc.record({ energyWh: num(0, 1e9), powerW: num(0, 2e5), voltageV: num(0, 300), currentA: num(0, 500), events: fc.subarray(['cover_open', 'magnetic', 'reverse', 'power_down', 'terminal_open', 'bypass']) }, { requiredKeys: ['energyWh', 'powerW'] }),
  dispenser: fc.record({ nozzle: fc.integer({ min: 0, max: 3 }), volumeL: num(0.01, 2000), totalizerL: num(0, 1e7), pulses: fc.integer({ min: 0, max: 1e7 }), temperatureC: num(-40, 60), events: fc.subarray(['seal_open', 'param_change', 'self_lock', 'power_cycle']) }, { requiredKeys: ['nozzle', 'volumeL', 'totalizerL', 'pulses'] }),
  tank: fc.record({ levelMm: num(0, 5000), volumeL: num(0, 200_000), temperatureC: num(-40, 60), deliveryL: num(0, 200_000) }, { requiredKeys: ['levelMm', 'volumeL'] }),
  scale: fc
    .tuple(
      fc.record({ zeroKg: num(-1, 1), tiltDeg: num(0, 90), events: fc.subarray(['tare', 'param_change', 'reboot', 'unstable', 'mode_change']) }, { requiredKeys: ['zeroKg'] }),
      fc.option(fc.record({ checkRefKg: fc.constantFrom(2, 5, 10, 20), checkIndicatedKg: num(-1, 40) })),
    )
    .map(([r, check]) => ({ ...r, ...(check ?? {}) })),
};

/** one message: a device, its reading's ts and receive time (up to a day late, or early), its fields */
const message = fc.integer({ min: 0, max: devices.length - 1 }).chain((i) => {
  const d = devices[i] as Device;
  return fc.record({
    device: fc.constant(d),
    ts: fc.integer({ min: T0, max: T0 + 8 * DAY }),
    lateMs: fc.integer({ min: -600_000, max: DAY }),
    seq: fc.integer({ min: 1, max: 50 }),
    fields: fieldsOf[d.kind],
  });
});

describe('analytics under fuzzed readings', () => {
  it('never throws, and reports finite estimates, probabilities and grades', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 50, maxLength: 600, size: 'max' }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }), (msgs, flushEvery) => {
        const clock = new ManualClock(T0);
        const an = createAnalytics({ db: openDb(':memory:'), clock, devicesOfSite: (s) => bySite.get(s) ?? [] });
        const states = new Map<string, DeviceState>();
        let batch: Accepted[] = [];
        msgs.forEach((m, k) => {
          const receivedAt = m.ts + m.lateMs;
          clock.set(Math.max(clock.now(), receivedAt));
          const state = states.get(m.device.id) ?? new DeviceState(m.device.id);
          states.set(m.device.id, state);
          const payload = Buffer.from(JSON.stringify({ ts: m.ts, seq: m.seq, ...m.fields }));
          const parsed = parseReadings(m.device, `devices/${m.device.id}/readings`, payload, receivedAt, clock.now(), DEFAULT_LIMITS, state);
          batch.push(...parsed.accepted);
          if (k % (flushEvery[k % flushEvery.length] as number) === 0) {
            an.ingest(batch);
            batch = [];
            an.flush();
          }
        });
        an.ingest(batch);
        clock.set(clock.now() + 3 * DAY);
        an.flush();
        for (const d of devices) {
          const st = an.state(d.id);
          if (!st) continue;
          expect(['A', 'B', 'C', 'D']).toContain(st.grade);
          expect(st.pOut).toBeGreaterThanOrEqual(0);
          expect(st.pOut).toBeLessThanOrEqual(1);
          if (st.sd !== null) {
            expect(Number.isFinite(st.sd)).toBe(true);
            expect(Number.isFinite(st.ratio)).toBe(true);
          }
          for (const r of st.reasons) expect(r.zh.length * r.en.length).toBeGreaterThan(0);
        }
        for (const o of an.orders.list({ limit: 100 }).items) expect(Number.isFinite(o.issuedAt)).toBe(true);
      }),
      { numRuns: 60, seed: 20261127 },
    );
  }, 120_000);
});
