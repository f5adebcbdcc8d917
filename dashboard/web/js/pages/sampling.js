import { api, ApiError } from '../api.js';
import { ocChart } from '../charts.js';
import { h, toast } from '../dom.js';
import { fmtTime, pct } from '../format.js';
import { t } from '../i18n.js';
import { gradeMix, listLinks, regionSelect, REGIONS, section } from '../widgets.js';

const KINDS = ['meter', 'dispenser', 'scale'];
// ISO 2859-1 Table 2 columns offered here (the full range the tables hold)
const AQLS = ['0.065', '0.1', '0.15', '0.25', '0.4', '0.65', '1.0', '1.5', '2.5', '4.0', '6.5', '10'];
const LEVELS = ['I', 'II', 'III', 'S-1', 'S-2', 'S-3', 'S-4'];
const INSPECTIONS = ['normal', 'tightened', 'reduced'];
const SCHEMES = ['iso2859-1', 'iso2859-2', 'messev'];

const lotLink = (l) => h('a', { href: `#/sampling/lot/${encodeURIComponent(l.id)}` }, l.id);
const groupOf = (l) => `${t(`kind.${l.kind}`)} · ${l.model} · ${l.accuracyClass} · ${t(`region.${l.region}`)}`;
const statusText = (s) => h(`span.status.lot-${s}`, t(`sampling.status.${s}`));

/** Lots and sampling: the lot list with the "form lots" action. */
export async function renderSampling(view, ctx) {
  const user = ctx.user();
  let region = '';
  let kind = '';
  const body = h('div');
  const formBtn = h('button.primary#form-lots', { type: 'button', onclick: form }, t('sampling.form'));
  view.append(
    h(
      'div.pagehead',
      h('h1', t('sampling.title')),
      regionSelect(user, region, (r) => {
        region = r;
        load();
      }),
      h('select', { name: 'kind', onchange: (e) => (kind = e.target.value) }, h('option', { value: '' }, t('sampling.kindAny')), KINDS.map((k) => h('option', { value: k }, t(`kind.${k}`)))),
      formBtn,
    ),
    body,
  );

  async function form() {
    formBtn.disabled = true;
    try {
      const regions = region ? [region] : user.role === 'admin' ? REGIONS : user.regions;
      let n = 0;
      for (const r of regions) n += (await api('/api/lots', { method: 'POST', body: { region: r, ...(kind ? { kind } : {}) } })).items.length;
      toast(t('sampling.formed', { n }));
      await load();
    } catch (err) {
      toast(`${t('error.generic')}: ${err.message}`);
    } finally {
      formBtn.disabled = false;
    }
  }

  async function load() {
    const { items } = await api('/api/lots');
    const lots = items.filter((l) => !region || l.region === region).sort((a, b) => a.dueDate.localeCompare(b.dueDate) || b.size - a.size);
    body.replaceChildren(
      section(
        `${t('sampling.lots')} (${lots.length})`,
        lots.length === 0
          ? h('p.muted', t('sampling.noLots'))
          : h(
              'div.scroll',
              h(
                'table.lots',
                h('thead', h('tr', [t('sampling.lot'), t('sampling.size'), t('sampling.group'), t('sampling.age'), t('sampling.mix'), t('sampling.due'), t('sampling.status')].map((c) => h('th', c)))),
                h(
                  'tbody',
                  lots.map((l) =>
                    h('tr', { 'data-id': l.id }, h('td', lotLink(l)), h('td.num', l.size), h('td', groupOf(l)), h('td.num', l.ageYears.toFixed(1)), h('td', gradeMix(l.gradeMix)), h('td', l.dueDate), h('td', statusText(l.status))),
                  ),
                ),
              ),
            ),
      ),
    );
  }
  await load();
}

/** One lot: members, plan, OC curve, lists with their results, decision and its signature, audit trail. */
export async function renderLot(view, ctx, id) {
  const enc = encodeURIComponent(id);
  let lot;
  try {
    lot = await api(`/api/lots/${enc}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      view.append(h('h1', id), h('p.error', t('error.forbidden')));
      return;
    }
    throw err;
  }
  const [oc, audit, results] = await Promise.all([
    api(`/api/lots/${enc}/oc`),
    api(`/api/lots/${enc}/audit`),
    Promise.all(lot.lists.map((l) => api(`/api/verifications?listId=${encodeURIComponent(l.id)}`).then((r) => r.items))),
  ]);
  const reload = () => {
    view.replaceChildren();
    return renderLot(view, ctx, id);
  };
  const signed = Boolean(lot.decision?.signedAt);
  const plan = lot.plan;

  view.append(
    h('div.pagehead', h('a', { href: '#/sampling' }, t('sampling.back'))),
    h('div.pagehead', h('h1', `${t('sampling.lot')} ${lot.id}`), statusText(lot.status)),
    h(
      'div.grid',
      section(
        groupOf(lot),
        h(
          'dl.facts',
          h('dt', t('sampling.size')), h('dd.big', lot.size),
          h('dt', t('sampling.range')), h('dd', `${lot.from} – ${lot.to}`),
          h('dt', t('sampling.age')), h('dd', lot.ageYears.toFixed(1)),
          h('dt', t('sampling.notice')), h('dd', lot.noticeDate),
          h('dt', t('sampling.due')), h('dd', lot.dueDate),
          h('dt', t('sampling.mix')), h('dd', gradeMix(lot.gradeMix)),
        ),
      ),
      section(t('sampling.plan'), planView(plan), signed ? null : planForm(plan, async (body) => {
        await api(`/api/lots/${enc}/plan`, { method: 'PUT', body });
        toast(t('sampling.planSet'));
        await reload();
      })),
    ),
    section(t('sampling.oc'), h('p.muted', t('sampling.ocHint')), h('div.chart#oc-chart')),
    section(
      t('sampling.lists'),
      lot.lists.length === 0 ? h('p.muted', t('sampling.noLists')) : lot.lists.map((l, i) => listView(l, results[i])),
      plan && !signed ? listsForm(lot, async (body) => {
        await api('/api/sampling-lists', { method: 'POST', body });
        toast(t('sampling.listsCreated'));
        await reload();
      }) : null,
    ),
    h('div.grid', section(t('sampling.decision'), decisionView(lot, plan, results, reload)), section(t('sampling.audit'), auditView(audit.items))),
  );

  const chartEl = view.querySelector('#oc-chart');
  if (oc.points.length) {
    const marks = [];
    const req = plan?.request;
    if (req?.scheme === 'iso2859-1') marks.push({ p: req.aql / 100, label: `AQL ${req.aql}%` });
    if (req?.scheme === 'iso2859-2') marks.push({ p: req.lq, label: `LQ ${pct(req.lq, 1)}` });
    if (req?.scheme === 'messev') marks.push({ p: 1 - req.conforming, label: `${pct(1 - req.conforming, 0)}` });
    ocChart(chartEl, oc.points, marks);
    chartEl.append(h('p.muted', `N = ${oc.lotSize}, n = ${oc.sampleSize}, Ac = ${oc.accept}`));
  } else chartEl.append(h('p.muted', plan ? t('sampling.ocNone') : t('sampling.noPlan')));
}

function planView(plan) {
  if (!plan) return h('p.muted', t('sampling.noPlan'));
  const d = plan.detail ?? {};
  return h(
    'dl.facts.plan',
    h('dt', t('sampling.scheme')), h('dd', t(`sampling.scheme.${plan.request.scheme}`)),
    plan.request.inspection
      ? [h('dt', t('sampling.inspection')), h('dd#plan-inspection', t(`sampling.inspection.${plan.request.inspection}`), d.switching?.source === 'switching rules' ? h('span.muted', ` · ${t('sampling.inspection.byRules')}`) : null)]
      : null,
    d.codeLetter ? [h('dt', t('sampling.codeLetter')), h('dd', d.codeLetter)] : null,
    h('dt', t('sampling.n')), h('dd.big#plan-n', plan.sampleSize),
    plan.accept !== null ? [h('dt', t('sampling.ac')), h('dd#plan-ac', plan.accept), h('dt', t('sampling.re')), h('dd#plan-re', plan.reject)] : [h('dt', 'k'), h('dd', plan.k?.toFixed(3))],
    d.hundredPercent ? [h('dt', ''), h('dd.warn', t('sampling.hundred'))] : null,
  );
}

function planForm(plan, submit) {
  const req = plan?.request ?? { scheme: 'iso2859-1', aql: 2.5, level: 'II' };
  // the switching rules choose the inspection unless the last plan stated one
  const stated = plan?.detail?.switching?.source === 'requested' ? req.inspection : '';
  const field = (label, input) => h('label', label, input);
  const num = (name, value, step) => h('input', { name, type: 'number', step, min: '0', value: String(value), inputmode: 'decimal' });
  const select = (name, values, value, label = (v) => v) => h('select', { name }, values.map((v) => h('option', { value: v, selected: String(v) === String(value) }, label(v))));
  const groups = {
    'iso2859-1': h('span.group', field(t('sampling.aql'), select('aql', AQLS, '2.5')), field(t('sampling.level'), select('level', LEVELS, req.level ?? 'II')), field(t('sampling.inspection'), select('inspection', ['', ...INSPECTIONS], stated ?? '', (v) => t(v ? `sampling.inspection.${v}` : 'sampling.inspection.auto')))),
    'iso2859-2': h('span.group', field(t('sampling.lq'), num('lq', (req.lq ?? 0.1) * 100, '0.1')), field(t('sampling.beta'), num('beta', (req.beta ?? 0.1) * 100, '1'))),
    messev: h('span.group', field(t('sampling.conforming'), num('conforming', (req.conforming ?? 0.95) * 100, '0.5')), field(t('sampling.confidence'), num('confidence', (req.confidence ?? 0.95) * 100, '0.5'))),
  };
  if (req.scheme === 'iso2859-1') groups['iso2859-1'].querySelector('select[name=aql]').value = String(AQLS.find((a) => Number(a) === Number(req.aql)) ?? '2.5');
  const scheme = select('scheme', SCHEMES, SCHEMES.includes(req.scheme) ? req.scheme : 'iso2859-1', (v) => t(`sampling.scheme.${v}`));
  const show = () => {
    for (const [k, g] of Object.entries(groups)) g.hidden = k !== scheme.value;
  };
  scheme.addEventListener('change', show);
  show();
  const form = h(
    'form.plan',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const s = scheme.value;
        const body =
          s === 'iso2859-1'
            ? { scheme: s, aql: Number(f.get('aql')), level: f.get('level'), ...(f.get('inspection') ? { inspection: f.get('inspection') } : {}) }
            : s === 'iso2859-2'
              ? { scheme: s, lq: Number(f.get('lq')) / 100, beta: Number(f.get('beta')) / 100 }
              : { scheme: s, conforming: Number(f.get('conforming')) / 100, confidence: Number(f.get('confidence')) / 100 };
        try {
          await submit(body);
        } catch (err) {
          toast(`${t('error.generic')}: ${err.message}`);
        }
      },
    },
    field(t('sampling.scheme'), scheme),
    Object.values(groups),
    h('button.primary', { type: 'submit' }, t('sampling.setPlan')),
  );
  return form;
}

function listsForm(lot, submit) {
  const form = h(
    'form.lists',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const seed = String(f.get('seed') ?? '').trim();
        try {
          await submit({ lotId: lot.id, inspector: String(f.get('inspector')).trim(), ...(seed ? { seed: Number(seed) } : {}) });
        } catch (err) {
          toast(`${t('error.generic')}: ${err.message}`);
        }
      },
    },
    h('label', t('sampling.inspector'), h('input', { name: 'inspector', required: true, autocomplete: 'off' })),
    h('label', t('sampling.seed'), h('input', { name: 'seed', type: 'number', min: '0', step: '1' })),
    h('button.primary', { type: 'submit' }, t('sampling.createLists')),
  );
  return form;
}

function listView(l, results) {
  const byDevice = new Map(results.map((r) => [r.deviceId, r]));
  const fail = results.filter((r) => !r.pass).length;
  return h(
    'div.samplelist',
    { 'data-id': l.id, 'data-purpose': l.purpose },
    h('h3', `${t(`sampling.purpose.${l.purpose}`)} · ${l.id}`),
    h('p', `${t('sampling.inspector')}: ${l.inspector} · ${t('sampling.progress', { done: results.length, total: l.size, fail })}`, ' ', listLinks(l.id, api)),
    h('p.muted', `${t('sampling.method')}: ${l.method ?? '—'}${l.seed !== null ? ` · seed ${l.seed}` : ''}`),
    results.length === 0
      ? h('p.muted', t('sampling.noResults'))
      : h(
          'div.scroll',
          h(
            'table.results',
            h('thead', h('tr', [t('device.title'), t('inspector.date'), t('inspector.error'), t('inspector.mpe'), '', t('inspector.certificate'), t('inspector.seal'), t('sampling.actor')].map((c) => h('th', c)))),
            h(
              'tbody',
              [...byDevice.values()].map((r) =>
                h('tr', { 'data-device': r.deviceId }, h('td', h('a', { href: `#/device/${encodeURIComponent(r.deviceId)}` }, r.deviceId)), h('td', r.date), h('td.num', pct(r.error, 2)), h('td.num', `±${pct(r.mpe, 2)}`), h('td', passBadge(r.pass)), h('td', r.certificate), h('td', r.seal), h('td', r.inspector)),
              ),
            ),
          ),
        ),
  );
}

export const passBadge = (pass) => h(`span.badge.${pass ? 'pass' : 'fail'}`, pass ? `✓ ${t('inspector.pass')}` : `✗ ${t('inspector.fail')}`);

function decisionView(lot, plan, results, reload) {
  const enc = encodeURIComponent(lot.id);
  const d = lot.decision;
  const random = lot.lists.map((l, i) => [l, results[i]]).filter(([l]) => l.purpose === 'random').flatMap(([, r]) => r);
  const failures = random.filter((r) => !r.pass).length;
  const out = [];
  if (plan) {
    out.push(
      h(
        'dl.facts',
        h('dt', t('sampling.inspected')), h('dd#inspected', `${random.length} / ${plan.sampleSize}`),
        h('dt', t('sampling.failures')), h('dd#failures', String(failures)),
        plan.accept !== null ? [h('dt', 'Ac / Re'), h('dd', `${plan.accept} / ${plan.reject}`)] : null,
      ),
    );
  }
  if (d) {
    out.push(
      h('p', h(`span.verdict.${d.outcome}#verdict`, t(`sampling.outcome.${d.outcome}`)), ' ', t(`sampling.action.${d.action}`)),
      h(
        'dl.facts',
        d.dueDate ? [h('dt', t('sampling.newDue')), h('dd', d.dueDate)] : null,
        h('dt', t('sampling.decidedBy')), h('dd', `${d.decidedBy} · ${fmtTime(d.decidedAt)}`),
        h('dt', t('sampling.status')), h('dd#signed', d.signedAt ? `${t('sampling.signed')}: ${d.signedBy} · ${fmtTime(d.signedAt)}` : t('sampling.unsigned')),
        d.digest ? [h('dt', t('sampling.digest')), h('dd', h('code.digest', d.digest))] : null,
      ),
    );
  } else out.push(h('p.muted', t('sampling.noDecision')));
  if (plan && !d?.signedAt) {
    const onReject = h('select', { name: 'onReject' }, ['replace', 'verify-all'].map((v) => h('option', { value: v }, t(`sampling.onReject.${v}`))));
    out.push(
      h(
        'div.filters',
        h('label', t('sampling.onReject'), onReject),
        h('button.primary#decide', {
          type: 'button',
          onclick: async () => {
            try {
              await api(`/api/lots/${enc}/decision`, { method: 'POST', body: { onReject: onReject.value } });
              await reload();
            } catch (err) {
              const b = err.code === 'SMP_DECISION_PENDING' ? t('sampling.pending', { inspected: random.length, needed: plan.sampleSize }) : err.message;
              toast(b);
            }
          },
        }, t('sampling.decide')),
        d
          ? h('button#sign', {
              type: 'button',
              onclick: async () => {
                if (!window.confirm(t('sampling.signConfirm'))) return;
                try {
                  await api(`/api/lots/${enc}/decision/sign`, { method: 'POST' });
                  await reload();
                } catch (err) {
                  toast(err.message);
                }
              },
            }, t('sampling.sign'))
          : null,
      ),
    );
  }
  return out;
}

function auditView(items) {
  if (!items.length) return h('p.muted', '—');
  const detail = (a) => {
    const d = a.detail ?? {};
    const parts = [];
    for (const k of ['size', 'sampleSize', 'accept', 'reject', 'seed', 'inspector', 'deviceId', 'pass', 'outcome', 'action', 'failures']) if (d[k] !== undefined && d[k] !== null) parts.push(`${k}=${d[k]}`);
    return parts.join(' ');
  };
  return h(
    'div.scroll',
    h(
      'table.audit',
      h('thead', h('tr', h('th', t('common.when')), h('th', t('sampling.actor')), h('th', t('sampling.action')), h('th', t('sampling.detail')))),
      h('tbody', [...items].reverse().map((a) => h('tr', { 'data-action': a.action }, h('td', fmtTime(a.at)), h('td', a.actor), h('td', t(`sampling.audit.${a.action}`)), h('td.muted', detail(a))))),
    ),
  );
}
