import { createHash, randomInt } from 'node:crypto';
import { z } from 'zod';
import type { Kind, Region } from '../../ingest/readings.js';
import type { Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { Db } from '../../lib/sqlite.js';
import type { Device } from '../../registry/registry.js';
import { relativeMpe } from '../mpe/mpe.js';
import type { Grade } from '../state/grade.js';
import { decide, type Verdict } from './decision.js';
import { SamplingErrors } from './errors.js';
import { formLots, type LotCandidate } from './lots.js';
import { planFor, PlanRequest, type LotPlan } from './plans.js';
import { acceptedOneStepTighter, type Severity } from './iso2859-1.js';
import { fresh, INITIAL_SWITCHING, nextSwitching, type SwitchingState } from './switching.js';
import rules from './rules.json' with { type: 'json' };
import { byRoute, selectSample, SELECTION_METHOD } from './selection.js';
import { prepareStatements, type DecisionRow, type ListRow, type LotRow, type ResultRow, type Statements } from './store.js';

const YEAR_MS = 365.2425 * 86_400_000;

/** A verification result as an inspector records it (JJG procedures: test points against a reference). */
export const ResultInput = z.strictObject({
  listId: z.string().min(1).max(64),
  deviceId: z.string().min(1).max(64),
  /** ISO date of the test */
  date: z.iso.date(),
  // a reference quantity is a delivered energy, volume or mass: positive (a zero would make every error infinite)
  testPoints: z.array(z.strictObject({ reference: z.number().positive(), indicated: z.number().nonnegative(), unit: z.string().max(16).optional(), load: z.string().max(32).optional() })).min(1).max(50),
  /** fraction, e.g. 0.004 for +0.4 %; when absent, the worst test point's (indicated − reference) / reference; −1 is an instrument that registers nothing */
  error: z.number().min(-1).max(10).optional(),
  /** fraction; when absent, the in-service MPE of the instrument's class */
  mpe: z.number().positive().optional(),
  certificate: z.string().min(1).max(64),
  seal: z.string().min(1).max(64),
  evidence: z.string().max(500).optional(),
});
export type ResultInput = z.input<typeof ResultInput>;

export interface VerificationEvent {
  deviceId: string;
  /** ms */
  at: number;
  /** fraction */
  error: number;
  /** fraction */
  mpe: number;
}

export interface SamplingOptions {
  db: Db;
  clock: Clock;
  /** the registry's instruments (in-service ones become lot candidates) */
  devices(): readonly Device[];
  device(id: string): Device | null;
  /** current grade of an instrument, from analytics */
  grade?: (deviceId: string) => Grade | null;
  /** called after each recorded result, so analytics can recalibrate its estimate */
  onVerification?: (v: VerificationEvent) => void;
  logger?: Logger;
}

export interface Actor {
  username: string;
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Calendar arithmetic: whole years, then the fraction as whole months (0.5 year = 6 months). */
function addYears(date: string, years: number): string {
  const d = new Date(Date.parse(date));
  d.setUTCMonth(d.getUTCMonth() + Math.round(years * 12));
  return iso(d.getTime());
}
const json = <T>(s: string) => JSON.parse(s) as T;

export interface ListItem {
  deviceId: string;
  site: string;
  model: string;
  grade: Grade | null;
}

/**
 * Sampling verification: lots, plans, seeded lists, recorded results and signed lot decisions,
 * kept in the Db handed in. Construction does nothing; `start()` creates the tables.
 */
export function createSampling(opts: SamplingOptions) {
  const log = opts.logger ?? silentLogger;
  let st: Statements | null = null;
  const s = (): Statements => (st ??= prepareStatements(opts.db));
  const audit = (actor: string, action: string, subject: string, detail: unknown) =>
    s().audit.run(opts.clock.now(), actor, action, subject, JSON.stringify(detail));

  function lotRow(id: string): LotRow {
    const row = s().lot.get(id) as LotRow | undefined;
    if (!row) throw SamplingErrors.make('SMP_LOT_NOT_FOUND', id);
    return row;
  }
  function listRow(id: string): ListRow {
    const row = s().list.get(id) as ListRow | undefined;
    if (!row) throw SamplingErrors.make('SMP_LIST_NOT_FOUND', id);
    return row;
  }

  function lotView(r: LotRow) {
    const members = json<string[]>(r.members);
    const gradeMix: Record<Grade | 'unknown', number> = { A: 0, B: 0, C: 0, D: 0, unknown: 0 };
    for (const id of members) gradeMix[opts.grade?.(id) ?? 'unknown']++;
    const rule = rules.kinds[r.kind as Kind];
    const now = opts.clock.now();
    const decision = s().decision.get(r.id) as DecisionRow | undefined;
    return {
      id: r.id, region: r.region as Region, kind: r.kind as Kind, model: r.model, accuracyClass: r.accuracy_class,
      size: members.length, from: r.from_date, to: r.to_date,
      /** years since the oldest member's reference date */
      ageYears: Math.round(((now - Date.parse(r.from_date)) / YEAR_MS) * 10) / 10,
      gradeMix,
      /** ISO dates: verification due for the oldest member, and when the batch notice is due */
      dueDate: decision?.signed_at && decision.due_date ? decision.due_date : addYears(r.from_date, rule.periodYears),
      noticeDate: addYears(r.from_date, rule.periodYears - rules.batchNoticeYears),
      status: r.status,
      plan: r.plan ? json<LotPlan>(r.plan) : null,
      createdAt: r.created_at,
    };
  }
  const listView = (r: ListRow) => ({
    id: r.id, lotId: r.lot_id, purpose: r.purpose as 'random' | 'targeted', seed: r.seed, method: r.method, inspector: r.inspector,
    region: r.region as Region, createdAt: r.created_at, createdBy: r.created_by, items: json<ListItem[]>(r.items),
  });
  const resultView = (r: ResultRow) => ({
    id: r.id, listId: r.list_id, lotId: r.lot_id, deviceId: r.device_id, date: r.date, testPoints: json<unknown[]>(r.test_points),
    error: r.error, mpe: r.mpe, pass: r.pass === 1, inspector: r.inspector, certificate: r.certificate, seal: r.seal,
    evidence: r.evidence, recordedAt: r.recorded_at,
  });
  const decisionView = (r: DecisionRow) => ({
    lotId: r.lot_id, outcome: r.outcome as 'accept' | 'reject', action: r.action, dueDate: r.due_date, basis: json<Record<string, unknown>>(r.basis),
    evidence: json<Record<string, unknown>>(r.evidence), decidedAt: r.decided_at, decidedBy: r.decided_by, signedBy: r.signed_by, signedAt: r.signed_at, digest: r.digest,
  });

  /** the product a lot's switching history runs over: like instruments of one region */
  function productOf(r: LotRow) {
    return { region: r.region, kind: r.kind, model: r.model, accuracyClass: r.accuracy_class };
  }

  /**
   * ISO 2859-1 clause 9 over the product's earlier ISO 2859-1 lots with signed decisions, oldest
   * first. A lot whose plan stated its inspection puts the product on that severity from then on
   * (the authority's decision: resuming after discontinuation, 9.4, or reduced inspection, which
   * needs its approval, 9.3.3 c); the rules then carry on from there.
   */
  function switchingState(r: LotRow): SwitchingState & { lots: number } {
    let state = INITIAL_SWITCHING;
    let lots = 0;
    for (const h of s().productHistory.all(r.region, r.kind, r.model, r.accuracy_class, r.id) as { plan: string | null; outcome: string; failures: number | null }[]) {
      const plan = h.plan ? json<LotPlan>(h.plan) : null;
      if (plan?.request.scheme !== 'iso2859-1' || plan.accept === null) continue;
      const stated = (plan.detail['switching'] as { source?: string } | undefined)?.source === 'requested' ? plan.request.inspection : undefined;
      if (stated && stated !== state.inspection) state = fresh(stated);
      const accepted = h.outcome === 'accept';
      const d = plan.detail as { codeLetter?: string; aql?: string; inspection?: Severity };
      const tighter = accepted && plan.accept >= 2 && h.failures !== null && d.codeLetter && d.aql && d.inspection ? acceptedOneStepTighter(d.inspection, d.codeLetter, d.aql, h.failures) : null;
      state = nextSwitching(state, { accepted, accept: plan.accept, acceptedOneStepTighter: tighter ?? false, reducedApproved: false });
      lots++;
    }
    return { ...state, lots };
  }

  function randomResults(lotId: string) {
    const lists = (s().listsOfLot.all(lotId) as ListRow[]).filter((l) => l.purpose === 'random');
    return lists.flatMap((l) => (s().resultsOfList.all(l.id) as ResultRow[]).map(resultView));
  }

  return {
    start(): void {
      s();
    },

    /** Groups in-service instruments of the regions into lots; instruments already in an open lot or in a failed lot are left out. */
    formLots(q: { regions?: readonly Region[] | undefined; kind?: Kind | undefined; windowYears?: number | undefined }, actor: Actor) {
      const lots = s().lots.all() as LotRow[];
      const taken = new Set(lots.filter((l) => l.status === 'open').flatMap((l) => json<string[]>(l.members)));
      const excluded = new Set((s().rejectedMembers.all() as { members: string }[]).flatMap((r) => json<string[]>(r.members)));
      const verified = new Map((s().lastVerified.all() as { device_id: string; date: string }[]).map((r) => [r.device_id, r.date]));
      const candidates: LotCandidate[] = opts
        .devices()
        .filter((d) => (!q.regions || q.regions.includes(d.region)) && (!q.kind || d.kind === q.kind) && d.kind !== 'tank')
        .map((d) => ({ ...d, lastVerified: verified.get(d.id) }));
      const formed = formLots(candidates, { windowYears: q.windowYears ?? 2, excluded, taken });
      const now = opts.clock.now();
      opts.db.transaction(() => {
        for (const l of formed) {
          s().insertLot.run({ ...l, members: JSON.stringify(l.memberIds), createdAt: now, createdBy: actor.username });
          audit(actor.username, 'lot.formed', l.id, { size: l.memberIds.length, windowYears: q.windowYears ?? 2 });
        }
      })();
      log.info({ lots: formed.length, by: actor.username }, 'lots formed');
      return formed.map((l) => lotView(lotRow(l.id)));
    },

    lots(regions?: readonly Region[]) {
      return (s().lots.all() as LotRow[]).filter((l) => !regions || regions.includes(l.region as Region)).map(lotView);
    },
    lot(id: string) {
      return lotView(lotRow(id));
    },
    members(id: string): string[] {
      return json<string[]>(lotRow(id).members);
    },

    /** Sets the lot's plan (before any list is drawn, or again with a new request until a decision is signed). */
    setPlan(lotId: string, request: unknown, actor: Actor): LotPlan {
      const r = lotRow(lotId);
      if ((s().decision.get(lotId) as DecisionRow | undefined)?.signed_at) throw SamplingErrors.make('SMP_DECISION_SIGNED', lotId);
      const parsed = PlanRequest.safeParse(request);
      if (!parsed.success) throw SamplingErrors.make('SMP_PLAN_INVALID', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      let req = parsed.data;
      let switching: Record<string, unknown> | null = null;
      if (req.scheme === 'iso2859-1') {
        const state = switchingState(r);
        if (req.inspection === undefined) {
          if (state.inspection === 'discontinued') throw SamplingErrors.make('SMP_INSPECTION_DISCONTINUED', { product: productOf(r), rejectedOnTightened: state.rejectedOnTightened });
          req = { ...req, inspection: state.inspection };
          switching = { source: 'switching rules', ...state };
        } else switching = { source: 'requested', rules: state.inspection, ...state };
      }
      const plan = planFor(req, json<string[]>(r.members).length);
      if (switching) plan.detail['switching'] = switching;
      s().setPlan.run(JSON.stringify(plan), lotId);
      audit(actor.username, 'plan.set', lotId, plan);
      return plan;
    },

    /**
     * Draws the lot's random sample (seed recorded; a fresh one if none is given) and the
     * separate targeted list of its grade C/D instruments not already drawn.
     */
    createLists(lotId: string, o: { seed?: number | undefined; inspector: string }, actor: Actor) {
      const r = lotRow(lotId);
      if (!r.plan) throw SamplingErrors.make('SMP_NO_PLAN', lotId);
      const plan = json<LotPlan>(r.plan);
      const members = json<string[]>(r.members);
      const seed = o.seed ?? randomInt(0, 0x1_0000_0000);
      const drawn = selectSample(members, plan.sampleSize, seed);
      const item = (id: string): ListItem => {
        const d = opts.device(id);
        return { deviceId: id, site: d?.site ?? '', model: d?.model ?? r.model, grade: opts.grade?.(id) ?? null };
      };
      const inSample = new Set(drawn);
      const targeted = members.filter((id) => !inSample.has(id) && ['C', 'D'].includes(opts.grade?.(id) ?? ''));
      const now = opts.clock.now();
      const ids = { random: `${lotId}-r${seed}`, targeted: `${lotId}-t${seed}` };
      opts.db.transaction(() => {
        s().insertList.run({ id: ids.random, lotId, purpose: 'random', seed, method: SELECTION_METHOD, inspector: o.inspector, region: r.region, items: JSON.stringify(byRoute(drawn.map(item))), createdAt: now, createdBy: actor.username });
        s().insertList.run({ id: ids.targeted, lotId, purpose: 'targeted', seed: null, method: 'grade C/D members not in the random sample', inspector: o.inspector, region: r.region, items: JSON.stringify(byRoute(targeted.map(item))), createdAt: now, createdBy: actor.username });
        audit(actor.username, 'lists.created', lotId, { seed, method: SELECTION_METHOD, sampleSize: drawn.length, targeted: targeted.length, inspector: o.inspector });
      })();
      return { random: listView(listRow(ids.random)), targeted: listView(listRow(ids.targeted)) };
    },

    lists(q: { regions?: readonly Region[] | undefined; inspector?: string | undefined; lotId?: string | undefined }) {
      return (s().lists.all() as ListRow[])
        .filter((l) => (!q.regions || q.regions.includes(l.region as Region)) && (!q.inspector || l.inspector === q.inspector) && (!q.lotId || l.lot_id === q.lotId))
        .map(listView);
    },
    list(id: string) {
      return listView(listRow(id));
    },

    /** Records one result; only the list's inspector may (`asInspector`), admins and regulators on their behalf. */
    recordResult(input: unknown, actor: Actor & { asInspector: boolean }) {
      const parsed = ResultInput.safeParse(input);
      if (!parsed.success) throw SamplingErrors.make('SMP_PLAN_INVALID', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      const v = parsed.data;
      const l = listRow(v.listId);
      if (actor.asInspector && l.inspector !== actor.username) throw SamplingErrors.make('SMP_NOT_ASSIGNED', v.listId);
      if (!json<ListItem[]>(l.items).some((i) => i.deviceId === v.deviceId)) throw SamplingErrors.make('SMP_NOT_IN_LIST', v.deviceId);
      if ((s().decision.get(l.lot_id) as DecisionRow | undefined)?.signed_at) throw SamplingErrors.make('SMP_DECISION_SIGNED', l.lot_id);
      if (s().result.get(v.listId, v.deviceId)) throw SamplingErrors.make('SMP_RESULT_EXISTS', v.deviceId);
      const device = opts.device(v.deviceId);
      const mpe = v.mpe ?? (device ? relativeMpe(device)?.mpe : undefined);
      if (mpe === undefined) throw SamplingErrors.make('SMP_PLAN_INVALID', `no in-service MPE known for ${v.deviceId}: state mpe`);
      const worst = v.testPoints.map((p) => (p.indicated - p.reference) / p.reference).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a));
      const error = v.error ?? worst;
      // pass/fail against the in-service MPE (DOMAIN.md §2): every test point and the stated error within ±MPE
      const pass = Math.abs(error) <= mpe && Math.abs(worst) <= mpe;
      const now = opts.clock.now();
      const row = { listId: v.listId, lotId: l.lot_id, deviceId: v.deviceId, date: v.date, testPoints: JSON.stringify(v.testPoints), error, mpe, pass: pass ? 1 : 0, inspector: actor.username, certificate: v.certificate, seal: v.seal, evidence: v.evidence ?? null, recordedAt: now };
      opts.db.transaction(() => {
        s().insertResult.run(row);
        audit(actor.username, 'result.recorded', l.lot_id, { listId: v.listId, deviceId: v.deviceId, pass, error, mpe, certificate: v.certificate });
      })();
      opts.onVerification?.({ deviceId: v.deviceId, at: Date.parse(v.date), error, mpe });
      return resultView(s().result.get(v.listId, v.deviceId) as ResultRow);
    },
    /** each instrument's newest verification result, as `onVerification` gave it: for the analytics to carry forward after a restart */
    latestVerifications(): VerificationEvent[] {
      return (s().latestResults.all() as { device_id: string; date: string; error: number; mpe: number }[]).map((r) => ({ deviceId: r.device_id, at: Date.parse(r.date), error: r.error, mpe: r.mpe }));
    },
    results(listId: string) {
      listRow(listId);
      return (s().resultsOfList.all(listId) as ResultRow[]).map(resultView);
    },

    /** Decides the lot from its random sample (draft until signed). Rejection: replace the lot (状态更换) or verify every instrument. */
    decide(lotId: string, o: { onReject?: 'replace' | 'verify-all' | undefined }, actor: Actor) {
      const r = lotRow(lotId);
      if (!r.plan) throw SamplingErrors.make('SMP_NO_PLAN', lotId);
      if ((s().decision.get(lotId) as DecisionRow | undefined)?.signed_at) throw SamplingErrors.make('SMP_DECISION_SIGNED', lotId);
      const plan = json<LotPlan>(r.plan);
      const size = json<string[]>(r.members).length;
      const results = randomResults(lotId);
      const verdict: Verdict = decide(plan, size, results);
      if (verdict.outcome === 'pending') throw SamplingErrors.make('SMP_DECISION_PENDING', { inspected: verdict.inspected, needed: plan.sampleSize, failures: verdict.failures });
      const rule = rules.kinds[r.kind as Kind];
      const dueDate = verdict.outcome === 'accept' ? addYears(addYears(r.from_date, rule.periodYears), rule.extensionYears) : null;
      const action = verdict.outcome === 'accept' ? 'extend' : (o.onReject ?? 'replace');
      const lists = (s().listsOfLot.all(lotId) as ListRow[]).map((l) => ({ id: l.id, purpose: l.purpose, seed: l.seed, method: l.method }));
      const evidence = { plan, lists, results: results.map((x) => ({ deviceId: x.deviceId, pass: x.pass, error: x.error, mpe: x.mpe, certificate: x.certificate, seal: x.seal, date: x.date })), failures: verdict.failures, inspected: verdict.inspected, rule: { ...rule } };
      s().upsertDecision.run({ lotId, outcome: verdict.outcome, action, dueDate, basis: JSON.stringify(verdict.basis), evidence: JSON.stringify(evidence), decidedAt: opts.clock.now(), decidedBy: actor.username });
      audit(actor.username, 'decision.drafted', lotId, { outcome: verdict.outcome, action, failures: verdict.failures, inspected: verdict.inspected });
      return decisionView(s().decision.get(lotId) as DecisionRow);
    },

    /** Signs the decision: from then on it and the lot's results cannot change (SQLite triggers enforce it). */
    sign(lotId: string, actor: Actor) {
      lotRow(lotId);
      const d = s().decision.get(lotId) as DecisionRow | undefined;
      if (!d) throw SamplingErrors.make('SMP_NO_DECISION', lotId);
      if (d.signed_at) throw SamplingErrors.make('SMP_DECISION_SIGNED', lotId);
      const at = opts.clock.now();
      // the digest binds the signature to the exact decision and evidence
      const digest = createHash('sha256').update(JSON.stringify([d.lot_id, d.outcome, d.action, d.due_date, d.basis, d.evidence, actor.username, at])).digest('hex');
      opts.db.transaction(() => {
        s().sign.run(actor.username, at, digest, lotId);
        s().setStatus.run(d.outcome === 'accept' ? 'accepted' : 'rejected', lotId);
        audit(actor.username, 'decision.signed', lotId, { outcome: d.outcome, action: d.action, digest });
      })();
      return decisionView(s().decision.get(lotId) as DecisionRow);
    },
    decision(lotId: string) {
      lotRow(lotId);
      const d = s().decision.get(lotId) as DecisionRow | undefined;
      return d ? decisionView(d) : null;
    },
    audit(subject: string) {
      return (s().auditOf.all(subject) as { at: number; actor: string; action: string; subject: string; detail: string }[]).map((a) => ({ ...a, detail: json<unknown>(a.detail) }));
    },
    close(): void {
      st = null;
    },
  };
}
export type Sampling = ReturnType<typeof createSampling>;
