import { api, ApiError, qs } from '../api.js';
import { h, toast } from '../dom.js';
import { fmtTime, SEVERITIES, tr } from '../format.js';
import { t } from '../i18n.js';
import { fetchFile, regionSelect, severityChip, statusChip } from '../widgets.js';

const STATUSES = ['open', 'acknowledged', 'latched', 'resolved'];
const KINDS = ['meter', 'dispenser', 'tank', 'scale'];
const TYPES = ['out_of_tolerance', 'tamper', 'step', 'drift', 'silent', 'clock_skew', 'quarantine_burst'];
const PAGE = 50;

/** The alert list: filters in the URL, pages by cursor, live rows from the stream, ack/resolve with a comment. */
export async function renderAlerts(view, ctx, params) {
  const user = ctx.user();
  const canAct = user.role === 'admin' || user.role === 'regulator';
  const filter = { status: params.get('status') ?? 'open', region: params.get('region') ?? '', kind: params.get('kind') ?? '', type: params.get('type') ?? '', severity: params.get('severity') ?? '' };
  let cursor = null;
  const rows = new Map();
  const tbody = h('tbody');
  const empty = h('p.muted', { hidden: true }, t('alerts.empty'));
  const more = h('button', { type: 'button', hidden: true, onclick: () => load(false) }, t('alerts.more'));

  const setFilter = (k, v) => {
    filter[k] = v;
    history.replaceState(null, '', `#/alerts${qs(filter)}`);
    load(true);
  };
  const select = (k, values, label) =>
    h('label', t(`alerts.filter.${k}`), h('select', { name: k, onchange: (e) => setFilter(k, e.target.value) }, h('option', { value: '' }, t('alerts.any')), values.map((v) => h('option', { value: v, selected: filter[k] === v }, label(v)))));

  const matches = (a) =>
    (!filter.status || a.status === filter.status) && (!filter.region || a.region === filter.region) && (!filter.kind || a.kind === filter.kind) && (!filter.type || a.type === filter.type) && (!filter.severity || a.severity === filter.severity);

  function actions(a) {
    if (!canAct || a.status === 'resolved') return h('td');
    const cell = h('td.actions');
    const open = (action) => {
      const input = h('textarea', { name: 'comment', rows: 2, required: true, placeholder: t('alerts.comment'), 'aria-label': t('alerts.comment') });
      const form = h(
        'form.comment',
        {
          onsubmit: async (e) => {
            e.preventDefault();
            if (!input.value.trim()) return input.focus();
            try {
              const updated = await api(`/api/alerts/${a.id}/${action}`, { method: 'POST', body: { comment: input.value.trim() } });
              toast(t('alerts.done'));
              upsert(updated, false);
            } catch (err) {
              toast(err instanceof ApiError && err.status === 403 ? t('error.forbidden') : `${t('error.generic')}: ${err.message}`);
            }
          },
        },
        input,
        h('button.primary', { type: 'submit' }, t('alerts.confirm')),
        h('button', { type: 'button', onclick: () => cell.replaceChildren(...buttons()) }, t('alerts.cancel')),
      );
      cell.replaceChildren(form);
      input.focus();
    };
    const buttons = () => [
      a.status === 'open' || a.status === 'latched' ? h('button', { type: 'button', 'data-action': 'ack', onclick: () => open('ack') }, t('alerts.ack')) : null,
      h('button', { type: 'button', 'data-action': 'resolve', onclick: () => open('resolve') }, t('alerts.resolve')),
    ].filter(Boolean);
    cell.append(...buttons());
    return cell;
  }

  function row(a, fresh) {
    return h(
      `tr${fresh ? '.fresh' : ''}`,
      { 'data-id': a.id, 'data-device': a.deviceId },
      h('td', fmtTime(a.openedAt)),
      h('td', h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}` }, a.deviceId), h('div.muted', t(`kind.${a.kind}`))),
      h('td', t(`region.${a.region}`)),
      h('td', t(`type.${a.type}`)),
      h('td', severityChip(a.severity)),
      h('td', statusChip(a.status)),
      h('td.summary', tr(a.summary)),
      actions(a),
    );
  }

  function upsert(a, fresh) {
    const old = rows.get(a.id);
    if (!matches(a)) {
      old?.remove();
      rows.delete(a.id);
      return;
    }
    const r = row(a, fresh);
    // A comment being typed survives a live update of its row: the old action cell is kept.
    const typing = old?.querySelector('form.comment');
    if (typing && a.status !== 'resolved') r.lastElementChild.replaceWith(typing.parentElement);
    if (old) old.replaceWith(r);
    else tbody.prepend(r);
    rows.set(a.id, r);
    empty.hidden = rows.size > 0;
  }

  async function load(reset) {
    if (reset) {
      cursor = null;
      rows.clear();
      tbody.replaceChildren();
    }
    const page = await api(`/api/alerts${qs({ ...filter, cursor, limit: PAGE })}`);
    for (const a of page.items) {
      const r = row(a, false);
      tbody.append(r);
      rows.set(a.id, r);
    }
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    empty.hidden = rows.size > 0;
  }

  async function exportCsv() {
    try {
      await fetchFile(api, `/api/alerts${qs({ ...filter, limit: 500, format: 'csv' })}`, 'text/csv', 'alerts.csv');
    } catch (err) {
      toast(`${t('error.generic')}: ${err.message}`);
    }
  }

  view.append(
    h('div.pagehead', h('h1', t('alerts.title')), h('button', { type: 'button', onclick: exportCsv }, t('alerts.csv'))),
    h(
      'div.filters.card',
      select('status', STATUSES, (v) => t(`status.${v}`)),
      h('label', t('alerts.filter.region'), regionSelect(user, filter.region, (v) => setFilter('region', v))),
      select('kind', KINDS, (v) => t(`kind.${v}`)),
      select('type', TYPES, (v) => t(`type.${v}`)),
      select('severity', SEVERITIES, (v) => t(`severity.${v}`)),
    ),
    h(
      'div.card.scroll',
      h(
        'table.alerts',
        h('thead', h('tr', ['time', 'device', 'region', 'type', 'severity', 'status', 'summary', 'actions'].map((c) => h('th', t(`alerts.col.${c}`))))),
        tbody,
      ),
      empty,
      more,
    ),
  );
  await load(true);
  return ctx.onAlert(({ alert }) => upsert(alert, true));
}
