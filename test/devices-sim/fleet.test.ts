import { describe, expect, it } from 'vitest';
import { DeviceInput } from '../../registry/schema.js';
import { buildFleet } from '../../devices-sim/fleet.js';
import { demoScenario } from '../../devices-sim/scenario.js';
import { DriftwatchError } from '../../lib/errors.js';
import { DAY, START, scenario } from './helpers.js';

describe('buildFleet', () => {
  it('builds registry records that the registry schema accepts, with the documented ids and roles', () => {
    const fleet = buildFleet(scenario(), START);
    for (const d of fleet.devices) expect(DeviceInput.safeParse(d.record).success, d.id).toBe(true);
    const ids = fleet.devices.map((d) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('SH-A001-M000');
    expect(ids).toContain('JS-A002-M012');
    expect(ids).toContain('SH-S001-N3');
    expect(ids).toContain('SH-S001-T2');
    expect(ids).toContain('SH-M001-S04');
    const head = fleet.byId.get('SH-A001-M000');
    expect(head?.record).toMatchObject({ kind: 'meter', role: 'head', accuracyClass: '0.5S' });
    expect(fleet.byId.get('SH-S001-N3')?.record).toMatchObject({ kind: 'dispenser', role: 'nozzle', accuracyClass: '0.5', params: { nozzle: 3, tank: 2 } });
    expect(fleet.byId.get('SH-S001-T2')?.record).toMatchObject({ kind: 'tank', role: 'gauge' });
    expect(fleet.byId.get('SH-M001-S04')?.record).toMatchObject({ kind: 'scale', role: 'trade', accuracyClass: 'III', params: { maxKg: 30, eKg: 0.01 } });
    // install dates within the last 8 years before the start
    for (const d of fleet.devices) {
      const t = Date.parse(d.record.installDate);
      expect(t).toBeLessThanOrEqual(START);
      expect(t).toBeGreaterThan(START - 8 * 366 * DAY);
    }
  });

  it('is deterministic for a seed and different for another', () => {
    const a = buildFleet(scenario(), START);
    const b = buildFleet(scenario(), START);
    const c = buildFleet(scenario({ seed: 12 }), START);
    const view = (f: typeof a) => f.devices.map((d) => [d.record, d.error.base, d.error.faults]);
    expect(view(a)).toEqual(view(b));
    expect(view(a)).not.toEqual(view(c));
  });

  it('assigns regions round-robin and respects a region list', () => {
    const f = buildFleet(scenario({ regions: ['ZJ', 'AH'], areas: { count: 3, metersPerArea: [2, 2], intervalMin: 60, lossPct: [3, 7] } }), START);
    expect(f.areas.map((a) => a.region)).toEqual(['ZJ', 'AH', 'ZJ']);
  });

  it('assigns the requested faults to distinct devices of the kind, never to head meters', () => {
    const f = buildFleet(
      scenario({
        faults: [
          { kind: 'meter', type: 'drift', count: 5, startDay: [1, 10], ratePctPerYear: [2, 4] },
          { kind: 'dispenser', type: 'tamper', count: 2, startDay: [1, 10] },
          { kind: 'scale', type: 'stuck', count: 1, startDay: [1, 10] },
        ],
      }),
      START,
    );
    const drifting = f.devices.filter((d) => d.error.has('drift'));
    expect(drifting).toHaveLength(5);
    for (const d of drifting) {
      expect(d.record.role).toBe('customer');
      const fault = d.error.faults[0];
      expect(fault?.startMs).toBeGreaterThanOrEqual(START + DAY);
      expect(fault?.startMs).toBeLessThanOrEqual(START + 10 * DAY);
      expect(Math.abs(fault?.ratePerYear ?? 0)).toBeGreaterThanOrEqual(0.02);
      expect(Math.abs(fault?.ratePerYear ?? 0)).toBeLessThanOrEqual(0.04);
    }
    const tampered = f.devices.filter((d) => d.error.has('tamper'));
    expect(tampered.map((d) => d.kind)).toEqual(['dispenser', 'dispenser']);
    // pulse manipulation: the dispenser indicates more than it delivers
    for (const d of tampered) expect(d.error.tamperSize).toBeGreaterThanOrEqual(0.03);
    expect(f.devices.filter((d) => d.error.has('stuck')).map((d) => d.kind)).toEqual(['scale']);
  });

  it('rejects an invalid scenario and an impossible fault count with codes', () => {
    try {
      buildFleet({ ...scenario(), days: -1 }, START);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DriftwatchError);
      expect((err as DriftwatchError).code).toBe('SIM_SCENARIO_INVALID');
    }
    try {
      buildFleet(scenario({ faults: [{ kind: 'tank', type: 'drift', count: 3, startDay: [1, 2] }] }), START);
      expect.unreachable();
    } catch (err) {
      expect((err as DriftwatchError).code).toBe('SIM_FAULT_TARGETS_EXHAUSTED');
    }
  });

  it('defaults the start to days before now, at local midnight', () => {
    const now = Date.parse('2025-06-10T05:30:00Z');
    const f = buildFleet({ ...scenario(), start: undefined, days: 10 } as never, now);
    // 2025-05-31 local midnight is 2025-05-30T16:00Z
    expect(f.startMs).toBe(Date.parse('2025-05-30T16:00:00Z'));
  });

  it('demoScenario gives about the asked number of devices in all four regions, with every fault type', () => {
    for (const n of [50, 200, 1000]) {
      const f = buildFleet(demoScenario(n), START);
      expect(f.devices.length).toBeGreaterThan(n * 0.8);
      expect(f.devices.length).toBeLessThan(n * 1.2);
      if (n >= 200) expect(new Set(f.devices.map((d) => d.record.region))).toEqual(new Set(['SH', 'JS', 'ZJ', 'AH']));
      const types = new Set(f.devices.flatMap((d) => d.error.faults.map((x) => x.type)));
      expect(types).toEqual(new Set(['drift', 'step', 'tamper', 'noise', 'stuck', 'clockSkew', 'offline']));
    }
  });
});
