import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFleet } from '../../devices-sim/fleet.js';
import { createTruth, writeTruth, type TruthReport } from '../../devices-sim/truth.js';
import { DriftwatchError } from '../../lib/errors.js';
import { DAY, HOUR, START, scenario } from './helpers.js';

const fleet = buildFleet(
  scenario({
    days: 60,
    faults: [
      { kind: 'meter', type: 'drift', count: 1, startDay: [5, 5], ratePctPerYear: [30, 30] },
      { kind: 'meter', type: 'stuck', count: 1, startDay: [10, 10] },
      { kind: 'dispenser', type: 'tamper', count: 1, startDay: [3, 3], sizePct: [4, 4] },
      { kind: 'meter', type: 'offline', count: 1, startDay: [2, 2], days: [3, 3] },
    ],
  }),
  START,
);
const truth = createTruth(fleet);
const mpeOf = (d: { kind: string }) => (d.kind === 'meter' ? 0.02 : 0.003);

describe('ground truth', () => {
  it('reports each faulty device with its faults', () => {
    expect(truth.faulty()).toHaveLength(4);
    const stuck = truth.faulty().find((d) => d.error.has('stuck'));
    if (!stuck) throw new Error('no stuck meter');
    expect(truth.faultsOf(stuck.id)).toEqual([{ type: 'stuck', startMs: START + 10 * DAY, endMs: null }]);
    expect(truth.trueErrorAt(stuck.id, START + 10 * DAY - 1)).toBe(stuck.error.base);
    expect(truth.trueErrorAt(stuck.id, START + 10 * DAY)).toBe(-1);
    const off = truth.faulty().find((d) => d.error.has('offline'));
    expect(off?.error.faults[0]).toMatchObject({ startMs: START + 2 * DAY, endMs: START + 5 * DAY });
    expect(off?.error.offlineAt(START + 3 * DAY)).toBe(true);
    expect(off?.error.offlineAt(START + 5 * DAY)).toBe(false);
  });

  it('an intermittent dispenser tamper is on at onset and on roughly 70 % of later days', () => {
    const d = truth.faulty().find((x) => x.kind === 'dispenser');
    if (!d) throw new Error('no tampered dispenser');
    expect(truth.trueErrorAt(d.id, START + 3 * DAY + HOUR) - d.error.base).toBeCloseTo(0.04, 10);
    let on = 0;
    for (let day = 4; day < 60; day++) if (truth.trueErrorAt(d.id, START + day * DAY + 12 * HOUR) - d.error.base > 0.03) on++;
    expect(on).toBeGreaterThan(56 * 0.5);
    expect(on).toBeLessThan(56 * 0.9);
  });

  it('throws a coded error for an unknown device', () => {
    expect(() => truth.trueErrorAt('nope', START)).toThrowError(DriftwatchError);
  });

  it('finds the MPE crossing of a drift where the line crosses it', () => {
    const d = truth.faulty().find((x) => x.error.has('drift'));
    if (!d) throw new Error('no drift');
    const rate = d.error.faults[0]?.ratePerYear ?? 0;
    const report = truth.report({ mpeOf });
    const t = report.devices.find((x) => x.id === d.id);
    const expected = START + 5 * DAY + ((Math.sign(rate) * 0.02 - d.error.base) / rate) * 365.25 * DAY;
    expect(t?.mpeCrossingMs).not.toBeNull();
    expect(Math.abs((t?.mpeCrossingMs ?? 0) - expected)).toBeLessThanOrEqual(HOUR);
    expect(t?.daily).toHaveLength(61);
    // healthy devices carry no series and (with base errors of 0.15 MPE σ) never cross
    const healthy = report.devices.filter((x) => x.faults.length === 0);
    expect(healthy.length).toBe(fleet.devices.length - 4);
    for (const h of healthy) expect(h.daily).toBeUndefined();
  });

  it('counts a scale whose random error is beyond its repeatability limit out of tolerance from the noise onset, where the limit is given', () => {
    const noisy = buildFleet(scenario({ days: 20, faults: [{ kind: 'scale', type: 'noise', count: 1, startDay: [6, 6] }] }), START);
    const t = createTruth(noisy);
    const d = t.faulty()[0]!;
    const factor = d.error.faults[0]!.noiseFactor!;
    // the simulated sd is 0.2 e × the factor (5–10), e = 10 g
    const sdKg = 0.2 * 0.01 * factor;
    expect(t.outOfToleranceAt(d.id, 0.001, sdKg * 0.9, START, START + 20 * DAY, HOUR)).toBe(START + 6 * DAY);
    expect(t.outOfToleranceAt(d.id, 0.001, sdKg * 1.1, START, START + 20 * DAY, HOUR)).toBeNull();
    expect(t.outOfToleranceAt(d.id, 0.001, null, START, START + 20 * DAY, HOUR)).toBeNull();
    // the report (the sim's truth file) reads it the same way when given the limit, and not without
    const crossing = (r: TruthReport) => r.devices.find((x) => x.id === d.id)?.mpeCrossingMs;
    expect(crossing(t.report({ mpeOf: () => 0.001, repeatSdOf: (x) => (x.kind === 'scale' ? sdKg * 0.9 : null) }))).toBe(START + 6 * DAY);
    expect(crossing(t.report({ mpeOf: () => 0.001 }))).toBeNull();
  });

  it('writes the report as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'truth-'));
    try {
      const path = join(dir, 'truth.json');
      await writeTruth(truth, path, { mpeOf, fromMs: START, toMs: START + 10 * DAY });
      const parsed = JSON.parse(await readFile(path, 'utf8')) as TruthReport;
      expect(parsed.seed).toBe(11);
      expect(parsed.devices).toHaveLength(fleet.devices.length);
      expect(parsed.devices.find((x) => x.faults.some((f) => f.type === 'drift'))?.daily).toHaveLength(11);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
