import { api, qs } from '../api.js';
import { alertsPerDayChart } from '../charts.js';
import { h } from '../dom.js';
import { fmtDay, fmtTime, GRADES, SEVERITIES, tr } from '../format.js';
import { t } from '../i18n.js';
import { gradeChip, regionSelect, section, severityChip, statusChip } from '../widgets.js';

const KINDS = ['meter', 'dispenser', 'tank', 'scale'];
const REGION_KEY = 'driftwatch.region';

export async function renderOverview(view, ctx) {
  const user = ctx.user();
  let region = sessionStorage.getItem(REGION_KEY) ?? '';
  let timer = null;
  const body = h('div.grid');
  const head = h('div.pagehead', h('h1', t('overview.title')), regionSelect(user, region, (r) => {
    region = r;
    sessionStorage.setItem(REGION_KEY, r);
    load();
  }));
  view.append(head, body);

  async function load() {
    const [ov, alerts, orders] = await Promise.all([
      api(`/api/overview${qs({ region, days: 30 })}`),
      api(`/api/alerts${qs({ region, status: 'open', limit: 8 })}`),
      api(`/api/orders${qs({ region, status: 'open', limit: 8 })}`),
    ]);
    body.replaceChildren(
      section(
        t('overview.instruments'),
        h(
          'table.matrix',
          h('thead', h('tr', h('th', t('overview.kind')), GRADES.map((g) => h('th', gradeChip(g === 'none' ? null : g))), h('th', t('overview.total')))),
          h(
            'tbody',
            KINDS.map((k) => {
              const row = ov.instruments[k];
              const total = GRADES.reduce((s, g) => s + row[g], 0);
              return h('tr', h('th', t(`kind.${k}`)), GRADES.map((g) => h(`td.num${row[g] > 0 && g !== 'A' && g !== 'none' ? `.hot-${g}` : ''}`, row[g])), h('td.num', total));
            }),
            h('tr.total', h('th', t('overview.total')), GRADES.map((g) => h('td.num', ov.totals[g])), h('td.num', GRADES.reduce((s, g) => s + ov.totals[g], 0))),
          ),
        ),
      ),
      section(
        t('overview.openAlerts'),
        h('div.kpis', SEVERITIES.map((s) => h('a.kpi', { href: `#/alerts?severity=${s}` }, severityChip(s), h('strong', ov.alerts.bySeverity[s] ?? 0)))),
        h('div.kpis',
          h('div.kpi', h('span', t('overview.orders')), h('strong', ov.orders.open), h('span.muted', t('overview.openOrders'))),
          h('a.kpi#lots-due', { href: '#/sampling' }, h('span', t('overview.lotsDue')), h('strong', ov.lots ? ov.lots.due : '—'), ov.lots ? h('span.muted', t('overview.lotsOpen', { n: ov.lots.open })) : null),
        ),
      ),
      section(t('overview.perDay'), h('div.chart#per-day')),
      section(
        t('overview.latestAlerts'),
        alerts.items.length === 0
          ? h('p.muted', t('overview.none'))
          : h('ul.list', alerts.items.map((a) => h('li', severityChip(a.severity), ' ', h('a', { href: `#/device/${encodeURIComponent(a.deviceId)}` }, a.deviceId), ' ', h('span', tr(a.summary)), ' ', h('span.muted', fmtTime(a.openedAt))))),
        h('a', { href: '#/alerts' }, t('overview.seeAll')),
      ),
      section(
        t('overview.latestOrders'),
        orders.items.length === 0
          ? h('p.muted', t('overview.none'))
          : h('ul.list', orders.items.map((o) => h('li', h('a', { href: `#/device/${encodeURIComponent(o.deviceId)}` }, o.deviceId), ' ', t(`kind.${o.kind}`), ' · ', tr(o.reasons[0]), ' ', h('span.muted', fmtDay(o.issuedAt))))),
      ),
    );
    alertsPerDayChart(body.querySelector('#per-day'), ov.alertsPerDay);
  }

  await load();
  // live alerts: refresh the counts at most every 5 s rather than on every event
  const off = ctx.onAlert(() => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      load().catch(() => {});
    }, 5000);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}
