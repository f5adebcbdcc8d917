import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { KINDS, REGIONS } from '../../ingest/readings.js';
import type { Sampling } from '../../analytics/sampling/sampling.js';
import { DriftwatchError } from '../../lib/errors.js';
import { PlanRequest } from '../../analytics/sampling/plans.js';
import { ocCurve } from '../../analytics/sampling/iso2859-2.js';
import { relativeMpe } from '../../analytics/mpe/mpe.js';
import { ResultInput } from '../../analytics/sampling/sampling.js';
import { canSee, scopeOf, userOf } from '../auth.js';
import { toCsv } from '../csv.js';
import { DashboardErrors } from '../errors.js';

export interface SamplingDeps {
  sampling: Sampling;
}

const Id = z.object({ id: z.string().min(1).max(64) });
const PLANNERS = ['admin', 'regulator'] as const;
const ALL = ['admin', 'regulator', 'inspector'] as const;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Lots, sampling lists and verification results; region-scoped like every route (PDF export is not offered: the printable page prints to PDF). */
export const samplingRoutes: FastifyPluginAsyncZod<SamplingDeps> = async (app, { sampling }) => {
  // A lot or list out of the user's scope answers exactly as a missing one: the same code, the same words.
  const missing = <T>(what: string, get: () => T): T => {
    try {
      return get();
    } catch (err) {
      if (err instanceof DriftwatchError && err.status === 404) throw DashboardErrors.make('DSH_NOT_FOUND', what);
      throw err;
    }
  };
  const lotFor = (id: string, request: Parameters<typeof userOf>[0]) => {
    const lot = missing(`lot ${id}`, () => sampling.lot(id));
    if (!canSee(userOf(request), lot.region)) throw DashboardErrors.make('DSH_NOT_FOUND', `lot ${id}`);
    return lot;
  };
  const listFor = (id: string, request: Parameters<typeof userOf>[0]) => {
    const user = userOf(request);
    const list = missing(`list ${id}`, () => sampling.list(id));
    if (!canSee(user, list.region) || (user.role === 'inspector' && list.inspector !== user.username)) throw DashboardErrors.make('DSH_NOT_FOUND', `list ${id}`);
    return list;
  };

  app.get('/api/lots', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], summary: 'lots in your regions with size, age, grade mix and due dates' } }, async (request) => ({
    items: sampling.lots(scopeOf(userOf(request))),
  }));

  app.post(
    '/api/lots',
    { config: { roles: PLANNERS }, schema: { tags: ['sampling'], summary: 'form lots of like in-service instruments', body: z.strictObject({ region: z.enum(REGIONS), kind: z.enum(KINDS).optional(), windowYears: z.number().positive().max(10).optional() }) } },
    async (request, reply) => {
      const user = userOf(request);
      if (!canSee(user, request.body.region)) throw DashboardErrors.make('DSH_FORBIDDEN', `region ${request.body.region}`);
      return reply.code(201).send({ items: sampling.formLots({ regions: [request.body.region], kind: request.body.kind, windowYears: request.body.windowYears }, user) });
    },
  );

  app.get('/api/lots/:id', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], params: Id } }, async (request) => {
    const lot = lotFor(request.params.id, request);
    return { ...lot, decision: sampling.decision(lot.id), lists: sampling.lists({ lotId: lot.id }).map(({ items, ...l }) => ({ ...l, size: items.length })) };
  });

  app.get(
    '/api/lots/:id/oc',
    { config: { roles: PLANNERS }, schema: { tags: ['sampling'], summary: 'operating characteristic of the lot plan: P(accept) over the fraction nonconforming p, exact for the finite lot (hypergeometric)', params: Id } },
    async (request) => {
      const lot = lotFor(request.params.id, request);
      const plan = lot.plan;
      // a variables plan (ISO 3951-1) decides on x̄ and s, not on a count: it has no attributes OC curve here
      if (!plan || plan.accept === null) return { lotSize: lot.size, sampleSize: plan?.sampleSize ?? null, accept: null, points: [] };
      const points = ocCurve(lot.size, plan.sampleSize, plan.accept, 61).map((o) => ({ p: o.fraction, pAccept: o.pAccept }));
      return { lotSize: lot.size, sampleSize: plan.sampleSize, accept: plan.accept, points };
    },
  );

  app.put('/api/lots/:id/plan', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], params: Id, body: PlanRequest } }, async (request) => {
    lotFor(request.params.id, request);
    return sampling.setPlan(request.params.id, request.body, userOf(request));
  });

  app.post('/api/lots/:id/decision', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], params: Id, body: z.strictObject({ onReject: z.enum(['replace', 'verify-all']).optional() }) } }, async (request) => {
    lotFor(request.params.id, request);
    return sampling.decide(request.params.id, { onReject: request.body.onReject }, userOf(request));
  });

  app.post('/api/lots/:id/decision/sign', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], params: Id } }, async (request) => {
    lotFor(request.params.id, request);
    return sampling.sign(request.params.id, userOf(request));
  });

  app.get('/api/lots/:id/audit', { config: { roles: PLANNERS }, schema: { tags: ['sampling'], params: Id } }, async (request) => {
    lotFor(request.params.id, request);
    return { items: sampling.audit(request.params.id) };
  });

  app.post(
    '/api/sampling-lists',
    { config: { roles: PLANNERS }, schema: { tags: ['sampling'], summary: 'draw the random sample (seed recorded) and the targeted grade C/D list', body: z.strictObject({ lotId: z.string().min(1).max(64), inspector: z.string().min(1).max(64), seed: z.number().int().min(0).max(0xffff_ffff).optional() }) } },
    async (request, reply) => {
      lotFor(request.body.lotId, request);
      return reply.code(201).send(sampling.createLists(request.body.lotId, { seed: request.body.seed, inspector: request.body.inspector }, userOf(request)));
    },
  );

  app.get('/api/sampling-lists', { config: { roles: ALL }, schema: { tags: ['sampling'], summary: 'lists in your regions; inspectors see the lists assigned to them' } }, async (request) => {
    const user = userOf(request);
    return { items: sampling.lists({ regions: scopeOf(user), inspector: user.role === 'inspector' ? user.username : undefined }) };
  });

  app.get('/api/sampling-lists/:id', { config: { roles: ALL }, schema: { tags: ['sampling'], summary: 'one list, with the in-service MPE of its lot (fraction; null for scales, whose MPE depends on the test load) and the results so far', params: Id } }, async (request) => {
    const list = listFor(request.params.id, request);
    const lot = sampling.lot(list.lotId);
    const mpe = relativeMpe({ kind: lot.kind, accuracyClass: lot.accuracyClass, params: {} })?.mpe ?? null;
    return { ...list, kind: lot.kind, model: lot.model, accuracyClass: lot.accuracyClass, mpe, results: sampling.results(list.id) };
  });

  app.get('/api/sampling-lists/:id/csv', { config: { roles: ALL }, schema: { tags: ['sampling'], params: Id } }, async (request, reply) => {
    const l = listFor(request.params.id, request);
    type Row = (typeof l.items)[number] & { order: number };
    const csv = toCsv<Row>(
      [
        { name: 'order', value: (i) => i.order },
        { name: 'site', value: (i) => i.site },
        { name: 'deviceId', value: (i) => i.deviceId },
        { name: 'model', value: (i) => i.model },
        { name: 'grade', value: (i) => i.grade },
        { name: 'list', value: () => l.id },
        { name: 'purpose', value: () => l.purpose },
        { name: 'seed', value: () => l.seed },
        { name: 'method', value: () => l.method },
      ],
      l.items.map((i, k) => ({ ...i, order: k + 1 })),
    );
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${l.id}.csv"`).send(csv);
  });

  app.get('/api/sampling-lists/:id/print', { config: { roles: ALL }, schema: { tags: ['sampling'], params: Id } }, async (request, reply) => {
    const l = listFor(request.params.id, request);
    const bySite = new Map<string, typeof l.items>();
    for (const i of l.items) bySite.set(i.site, [...(bySite.get(i.site) ?? []), i]);
    const sections = [...bySite].map(([site, items]) => `<h2>${esc(site)}</h2><table><tr><th>#</th><th>instrument</th><th>model</th><th>grade</th><th>result</th><th>certificate</th><th>seal</th></tr>${items.map((i, k) => `<tr><td>${k + 1}</td><td>${esc(i.deviceId)}</td><td>${esc(i.model)}</td><td>${esc(i.grade ?? '')}</td><td></td><td></td><td></td></tr>`).join('')}</table>`).join('');
    const html = `<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>${esc(l.id)}</title><style>body{font:12pt sans-serif}table{border-collapse:collapse;width:100%}td,th{border:1px solid #444;padding:4px}h2{page-break-after:avoid}</style></head><body><h1>抽样检定清单 / Sampling list ${esc(l.id)}</h1><p>${esc(l.purpose)} · inspector ${esc(l.inspector)} · seed ${l.seed ?? '—'} · ${esc(l.method ?? '')}</p>${sections}</body></html>`;
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.post('/api/verifications', { config: { roles: ALL }, schema: { tags: ['sampling'], summary: 'record one verification result', body: ResultInput } }, async (request, reply) => {
    const user = userOf(request);
    listFor(request.body.listId, request);
    return reply.code(201).send(sampling.recordResult(request.body, { username: user.username, asInspector: user.role === 'inspector' }));
  });

  app.get(
    '/api/verifications',
    {
      config: { roles: ALL },
      schema: { tags: ['sampling'], summary: 'recorded results of one list, or of one instrument across the lists you may see', querystring: z.strictObject({ listId: z.string().min(1).max(64).optional(), deviceId: z.string().min(1).max(64).optional() }) },
    },
    async (request) => {
      const { listId, deviceId } = request.query;
      if (listId) {
        listFor(listId, request);
        return { items: sampling.results(listId).filter((r) => !deviceId || r.deviceId === deviceId) };
      }
      if (!deviceId) throw DashboardErrors.make('DSH_BAD_REQUEST', 'listId or deviceId is required');
      const user = userOf(request);
      // the lists in scope carry the instrument; results of lists out of scope stay hidden
      const lists = sampling.lists({ regions: scopeOf(user), inspector: user.role === 'inspector' ? user.username : undefined }).filter((l) => l.items.some((i) => i.deviceId === deviceId));
      const items = lists.flatMap((l) => sampling.results(l.id).filter((r) => r.deviceId === deviceId));
      return { items: items.sort((a, b) => b.date.localeCompare(a.date) || b.recordedAt - a.recordedAt) };
    },
  );
};
