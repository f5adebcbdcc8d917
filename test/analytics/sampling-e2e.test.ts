import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { openDb, type Db } from '../../lib/sqlite.js';
import { Registry } from '../../registry/registry.js';
import { createSampling, type Sampling, type VerificationEvent } from '../../analytics/sampling/sampling.js';
import { selectSample } from '../../analytics/sampling/selection.js';

const T0 = Date.UTC(2026, 0, 15);
let db: Db;
let sampling: Sampling;
let registry: Registry;
const events: VerificationEvent[] = [];
const admin = { username: 'reg-sh' };

beforeAll(() => {
  db = openDb(':memory:');
  const clock = new ManualClock(T0);
  registry = new Registry(db, () => clock.now());
  registry.upsertDevices(
    Array.from({ length: 1200 }, (_, i) => ({
      input: { id: `m-${String(i).padStart(4, '0')}`, kind: 'meter' as const, model: 'DDZY-1', accuracyClass: '2', region: 'SH' as const, site: `area-${i % 12}`, installDate: i < 600 ? '2018-03-01' : '2019-06-01' },
      secret: 'x'.repeat(20),
    })),
  );
  sampling = createSampling({ db, clock, devices: () => registry.allDevices(), device: (id) => registry.getDevice(id), grade: (id) => (id.endsWith('7') ? 'C' : 'A'), onVerification: (v) => events.push(v) });
  sampling.start();
});
afterAll(() => {
  sampling.close();
  db.close();
});

const pass = (listId: string, deviceId: string, ok: boolean) => ({
  listId, deviceId, date: '2026-01-20', testPoints: [{ reference: 1000, indicated: ok ? 1003 : 1035 }], certificate: `C-${deviceId}`, seal: `S-${deviceId}`,
});

function lotWith(k: number, plan: { aql: number }) {
  const [lot] = sampling.formLots({ regions: ['SH'] }, admin);
  if (!lot) throw new Error('no lot');
  expect(lot.size).toBe(1200);
  const p = sampling.setPlan(lot.id, { scheme: 'iso2859-1', aql: plan.aql }, admin);
  const { random, targeted } = sampling.createLists(lot.id, { seed: 20260115, inspector: 'insp-sh' }, admin);
  expect(random.items).toHaveLength(p.sampleSize);
  const drawn = new Set(random.items.map((i) => i.deviceId));
  expect(targeted.items.every((i) => !drawn.has(i.deviceId) && i.grade === 'C')).toBe(true);
  random.items.forEach((item, i) => sampling.recordResult(pass(random.id, item.deviceId, i >= k), { username: 'insp-sh', asInspector: true }));
  return { lot, p, random, targeted };
}

describe('end to end: 1 200 meters → plan → list → results → decision', () => {
  it('forms one lot, draws n = 80 (J, AQL 1.0: 2/3) re-derivable from the seed, and accepts with 2 failures', () => {
    const { lot, p, random, targeted } = lotWith(2, { aql: 1.0 });
    expect(p).toMatchObject({ sampleSize: 80, accept: 2, reject: 3 });
    expect(new Set(random.items.map((i) => i.deviceId))).toEqual(new Set(selectSample(sampling.members(lot.id), 80, 20260115)));
    expect(random.items.map((i) => i.site)).toEqual([...random.items.map((i) => i.site)].sort());
    expect(events).toHaveLength(80);
    // what a restart gives the analytics back: each verified instrument's result, as it was reported
    const latest = sampling.latestVerifications();
    expect(latest).toHaveLength(80);
    expect(new Map(latest.map((v) => [v.deviceId, v]))).toEqual(new Map(events.map((v) => [v.deviceId, v])));
    // the same device tested on another list, recorded later but dated earlier: the newest test by date still counts
    const again = random.items[0]!.deviceId;
    db.prepare(`INSERT INTO verifications (list_id, lot_id, device_id, date, test_points, error, mpe, pass, inspector, certificate, seal, recorded_at)
      VALUES (?, ?, ?, '2025-12-01', '[]', 0.011, 0.02, 1, 'insp-sh', 'c', 's', ?)`).run(targeted.id, lot.id, again, T0 + 1);
    expect(sampling.latestVerifications().find((v) => v.deviceId === again)).toEqual(events.find((v) => v.deviceId === again));
    const d = sampling.decide(lot.id, {}, admin);
    expect(d).toMatchObject({ outcome: 'accept', action: 'extend', dueDate: '2030-03-01' });
    const signed = sampling.sign(lot.id, admin);
    expect(signed.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(() => sampling.decide(lot.id, {}, admin)).toThrow(/signed/);
    expect(() => db.prepare(`UPDATE sampling_decisions SET outcome = 'reject'`).run()).toThrow(/immutable/);
    expect(() => db.prepare(`DELETE FROM verifications`).run()).toThrow(/immutable/);
    expect(sampling.audit(lot.id).map((a) => a.action)).toEqual(['lot.formed', 'plan.set', 'lists.created', ...Array(80).fill('result.recorded'), 'decision.drafted', 'decision.signed']);
  });
});

describe('a lot with 3 failures is rejected', () => {
  it('Re = 3 reached: reject, and its members never join a new lot', () => {
    const db2 = openDb(':memory:');
    const reg2 = new Registry(db2);
    reg2.upsertDevices(registry.allDevices().map((d) => ({ input: { id: d.id, kind: d.kind, model: d.model, accuracyClass: d.accuracyClass, region: d.region, site: d.site, installDate: d.installDate }, secret: 'x'.repeat(20) })));
    const s2 = createSampling({ db: db2, clock: new ManualClock(T0), devices: () => reg2.allDevices(), device: (id) => reg2.getDevice(id) });
    s2.start();
    const [lot] = s2.formLots({}, admin);
    if (!lot) throw new Error('no lot');
    s2.setPlan(lot.id, { scheme: 'iso2859-1', aql: 1.0 }, admin);
    const { random } = s2.createLists(lot.id, { seed: 7, inspector: 'insp-sh' }, admin);
    const items = random.items;
    for (let i = 0; i < 3; i++) s2.recordResult(pass(random.id, (items[i] as { deviceId: string }).deviceId, false), { username: 'insp-sh', asInspector: true });
    expect(() => s2.recordResult(pass(random.id, (items[3] as { deviceId: string }).deviceId, true), { username: 'someone', asInspector: true })).toThrow(/another inspector/);
    const d = s2.decide(lot.id, {}, admin);
    expect(d).toMatchObject({ outcome: 'reject', action: 'replace', dueDate: null });
    s2.sign(lot.id, admin);
    expect(s2.formLots({}, admin)).toEqual([]);
    db2.close();
  });
  it('with 2 of 80 recorded and none failing, the decision is pending', () => {
    const db3 = openDb(':memory:');
    const reg3 = new Registry(db3);
    reg3.upsertDevices(registry.allDevices().slice(0, 1200).map((d) => ({ input: { id: d.id, kind: d.kind, model: d.model, accuracyClass: d.accuracyClass, region: d.region, site: d.site, installDate: d.installDate }, secret: 'x'.repeat(20) })));
    const s3 = createSampling({ db: db3, clock: new ManualClock(T0), devices: () => reg3.allDevices(), device: (id) => reg3.getDevice(id) });
    const [lot] = s3.formLots({}, admin);
    if (!lot) throw new Error('no lot');
    s3.setPlan(lot.id, { scheme: 'iso2859-1', aql: 1.0 }, admin);
    const { random } = s3.createLists(lot.id, { seed: 7, inspector: 'insp-sh' }, admin);
    s3.recordResult(pass(random.id, (random.items[0] as { deviceId: string }).deviceId, true), { username: 'insp-sh', asInspector: true });
    expect(() => s3.decide(lot.id, {}, admin)).toThrow(/not complete/);
    db3.close();
  });
});

describe('ISO 2859-1 switching over a product’s lots (clause 9)', () => {
  it('normal → tightened after 2 rejections, discontinued after 5 more under tightened; a stated inspection overrides', () => {
    const db4 = openDb(':memory:');
    const clock = new ManualClock(T0);
    const reg4 = new Registry(db4, () => clock.now());
    // one product (region, kind, model, class), ten installation years three years apart: ten lots
    reg4.upsertDevices(
      Array.from({ length: 200 }, (_, i) => ({
        input: { id: `p-${String(i).padStart(3, '0')}`, kind: 'meter' as const, model: 'DDZY-9', accuracyClass: '2', region: 'SH' as const, site: `area-${i % 4}`, installDate: `${1995 + 3 * Math.floor(i / 20)}-05-01` },
        secret: 'x'.repeat(20),
      })),
    );
    const s4 = createSampling({ db: db4, clock, devices: () => reg4.allDevices(), device: (id) => reg4.getDevice(id) });
    const lots = s4.formLots({}, admin);
    expect(lots).toHaveLength(10);
    const inspections: string[] = [];
    const run = (lotId: string, ok: boolean, request: Record<string, unknown> = { scheme: 'iso2859-1', aql: 6.5 }) => {
      const plan = s4.setPlan(lotId, request, admin);
      inspections.push(String((plan.request as { inspection?: string }).inspection));
      const { random } = s4.createLists(lotId, { seed: 1, inspector: 'insp-sh' }, admin);
      for (const item of random.items) s4.recordResult(pass(random.id, item.deviceId, ok), { username: 'insp-sh', asInspector: true });
      expect(s4.decide(lotId, {}, admin).outcome).toBe(ok ? 'accept' : 'reject');
      clock.set(clock.now() + 1000);
      s4.sign(lotId, admin);
      return plan;
    };
    for (const lot of lots.slice(0, 7)) run(lot.id, false);
    // 2 of the first 2 not accepted → tightened (9.3.1); 5 not accepted under tightened → discontinued (9.4)
    expect(inspections).toEqual(['normal', 'normal', 'tightened', 'tightened', 'tightened', 'tightened', 'tightened']);
    const last = lots[7]!.id;
    expect(() => s4.setPlan(last, { scheme: 'iso2859-1', aql: 6.5 }, admin)).toThrow(/discontinued/);
    // other schemes are not switched
    expect(s4.setPlan(last, { scheme: 'iso2859-2', lq: 0.1 }, admin).detail['switching']).toBeUndefined();
    // the authority resumes after corrective action by stating the inspection; the plan records what the rules said
    const resumed = run(last, true, { scheme: 'iso2859-1', aql: 6.5, inspection: 'tightened' });
    expect(resumed.detail['switching']).toMatchObject({ source: 'requested', rules: 'discontinued', lots: 7 });
    // from then on the rules carry on from tightened: the next lot is planned again, without stating it
    const next = s4.setPlan(lots[8]!.id, { scheme: 'iso2859-1', aql: 6.5 }, admin);
    expect(next.request).toMatchObject({ inspection: 'tightened' });
    expect(next.detail['switching']).toMatchObject({ source: 'switching rules', inspection: 'tightened', lots: 8, rejectedOnTightened: 0 });
    db4.close();
  });
});
