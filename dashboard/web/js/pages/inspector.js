import { api, ApiError } from '../api.js';
import { h, toast } from '../dom.js';
import { pct } from '../format.js';
import { t } from '../i18n.js';
import { gradeChip, listLinks } from '../widgets.js';
import { passBadge } from './sampling.js';

/** Sites of a list in route order: the list's items are already ordered by site, then instrument. */
function bySite(items) {
  const sites = new Map();
  for (const i of items) sites.set(i.site, [...(sites.get(i.site) ?? []), i]);
  return [...sites];
}

const today = () => new Date().toISOString().slice(0, 10);

/** The inspector's lists, laid out for a phone: each list with its sites in route order. */
export async function renderInspector(view, ctx) {
  const user = ctx.user();
  const { items } = await api('/api/sampling-lists');
  const lists = items.filter((l) => l.items.length > 0);
  const results = await Promise.all(lists.map((l) => api(`/api/verifications?listId=${encodeURIComponent(l.id)}`).then((r) => r.items)));
  view.append(
    h(
      'div.phone',
      h('h1', t('inspector.title')),
      h('p.muted', t('inspector.hint')),
      h('p.regions', user.role === 'admin' ? t('region.all') : user.regions.map((r) => t(`region.${r}`)).join('、')),
      lists.length === 0
        ? h('div.card', h('p', t('inspector.none')))
        : lists.map((l, k) => {
            const sites = bySite(l.items);
            const done = results[k].length;
            return h(
              'a.card.listcard',
              { href: `#/inspector/list/${encodeURIComponent(l.id)}`, 'data-id': l.id },
              h('h2', `${t(`sampling.purpose.${l.purpose}`)}`),
              h('p.muted', `${l.id} · ${t(`region.${l.region}`)} · ${t('inspector.sites', { n: sites.length })}`),
              h('p', t('sampling.progress', { done, total: l.items.length, fail: results[k].filter((r) => !r.pass).length })),
              h('ol.sites', sites.map(([site, its]) => h('li', `${site} (${its.length})`))),
            );
          }),
    ),
  );
}

/** One list on a phone: its sites in route order, each instrument with its result or a form to record it. */
export async function renderInspectorList(view, ctx, id) {
  const enc = encodeURIComponent(id);
  let list;
  try {
    list = await api(`/api/sampling-lists/${enc}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      view.append(h('div.phone', h('p.error', t('error.forbidden'))));
      return;
    }
    throw err;
  }
  const results = new Map(list.results.map((r) => [r.deviceId, r]));
  const phone = h(
    'div.phone',
    h('a', { href: '#/inspector' }, t('inspector.back')),
    h('h1', t(`sampling.purpose.${list.purpose}`)),
    h('p.muted', `${list.id} · ${t(`kind.${list.kind}`)} ${list.model} · ${list.accuracyClass}`),
    h('p', `${t('inspector.mpe')}: ${list.mpe === null ? '—' : `±${pct(list.mpe, 2)}`}`),
    h('p', listLinks(list.id, api)),
  );
  for (const [site, items] of bySite(list.items)) {
    phone.append(
      h('h2.site', site),
      h('ul.items', items.map((item) => itemView(list, item, results.get(item.deviceId) ?? null))),
    );
  }
  view.append(phone);
}

function itemView(list, item, result) {
  const li = h('li', { 'data-device': item.deviceId });
  const render = (r) => {
    li.replaceChildren(
      h('div.head', h('strong', item.deviceId), item.grade ? gradeChip(item.grade) : null, r ? passBadge(r.pass) : h('span.muted', t('inspector.todo'))),
      r
        ? h('p.muted', `${r.date} · ${t('inspector.error')} ${pct(r.error, 2)} / ±${pct(r.mpe, 2)} · ${t('inspector.certificate')} ${r.certificate} · ${t('inspector.seal')} ${r.seal}`)
        : h('button.primary.record', { type: 'button', onclick: () => li.append(resultForm(list, item, li, (saved) => render(saved))) }, t('inspector.record')),
    );
  };
  render(result);
  return li;
}

/** The result form: error computed as the worst test point's (indicated − reference) / reference, judged against the MPE. */
function resultForm(list, item, li, done) {
  li.querySelector('button.record')?.remove();
  const points = h('div.points');
  const errorOut = h('strong.error-out', '—');
  const verdictOut = h('span.verdict-out');
  const mpeInput = list.mpe === null ? h('input', { name: 'mpe', type: 'number', step: '0.01', min: '0', inputmode: 'decimal', required: true }) : null;
  const mpeOf = () => (list.mpe !== null ? list.mpe : Number(mpeInput.value) / 100);
  const worst = () => {
    let w = null;
    for (const row of points.querySelectorAll('.point')) {
      const ref = Number(row.querySelector('[name=reference]').value);
      const ind = Number(row.querySelector('[name=indicated]').value);
      if (!row.querySelector('[name=reference]').value || !row.querySelector('[name=indicated]').value || ref === 0) continue;
      const e = (ind - ref) / ref;
      if (w === null || Math.abs(e) > Math.abs(w)) w = e;
    }
    return w;
  };
  const update = () => {
    const e = worst();
    const mpe = mpeOf();
    errorOut.textContent = e === null ? '—' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(3)}%`;
    verdictOut.replaceChildren(e === null || !(mpe > 0) ? '' : passBadge(Math.abs(e) <= mpe));
  };
  const addPoint = () =>
    points.append(
      h(
        'div.point',
        h('label', t('inspector.reference'), h('input', { name: 'reference', type: 'number', step: 'any', inputmode: 'decimal', required: true, oninput: update })),
        h('label', t('inspector.indicated'), h('input', { name: 'indicated', type: 'number', step: 'any', inputmode: 'decimal', required: true, oninput: update })),
      ),
    );
  addPoint();
  mpeInput?.addEventListener('input', update);
  const form = h(
    'form.result',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        const testPoints = [...points.querySelectorAll('.point')].map((row) => ({ reference: Number(row.querySelector('[name=reference]').value), indicated: Number(row.querySelector('[name=indicated]').value) }));
        const evidence = String(f.get('evidence') ?? '').trim();
        const body = {
          listId: list.id,
          deviceId: item.deviceId,
          date: String(f.get('date')),
          testPoints,
          certificate: String(f.get('certificate')).trim(),
          seal: String(f.get('seal')).trim(),
          ...(evidence ? { evidence } : {}),
          ...(mpeInput ? { mpe: Number(mpeInput.value) / 100 } : {}),
        };
        try {
          const saved = await api('/api/verifications', { method: 'POST', body });
          toast(t('inspector.saved', { id: item.deviceId }));
          done(saved);
        } catch (err) {
          toast(`${t('error.generic')}: ${err.message}`);
        }
      },
    },
    h('label', t('inspector.date'), h('input', { name: 'date', type: 'date', value: today(), required: true })),
    h('span.muted', t('inspector.points')),
    points,
    h('button.add-point', { type: 'button', onclick: addPoint }, t('inspector.addPoint')),
    h(
      'div.computed',
      h('span', `${t('inspector.error')}: `, errorOut),
      h('span', `${t('inspector.mpe')}: `, list.mpe !== null ? h('strong', `±${pct(list.mpe, 2)}`) : null),
      verdictOut,
    ),
    mpeInput ? h('label', t('inspector.mpeInput'), mpeInput) : null,
    h('label', t('inspector.certificate'), h('input', { name: 'certificate', required: true, maxlength: '64' })),
    h('label', t('inspector.seal'), h('input', { name: 'seal', required: true, maxlength: '64' })),
    h('label', t('inspector.evidence'), h('input', { name: 'evidence', maxlength: '500' })),
    h('button.primary', { type: 'submit' }, t('inspector.save')),
    h('button', { type: 'button', onclick: () => done(null) }, t('inspector.cancel')),
  );
  return form;
}
