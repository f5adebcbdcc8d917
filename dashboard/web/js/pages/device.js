import { api, ApiError, qs } from '../api.js';
import { estimateChart, readingsChart } from '../charts.js';
import { h } from '../dom.js';
import { fmtDay, fmtTime, pct, tr } from '../format.js';
import { t } from '../i18n.js';
import { gradeChip, section, severityChip, statusChip } from '../widgets.js';
import { passBadge } from './sampling.js';

/** One instrument: grade and reasons, error estimate chart, readings, grade history, alerts. */
export async function renderDevice(view, ctx, id) {
  const enc = encodeURIComponent(id);
  let state;
  try {
    state = await api(`/api/devices/${enc}/state`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      view.append(h('h1', id), h('p.error', t('device.notFound')));
      return;
    }
    throw err;
  }
  const d = state.device;
  const [estimates, grades] = await Promise.all([api(`/api/devices/${enc}/estimates${qs({ points: 600 })}`), api(`/api/devices/${enc}/grades`)]);
  // The server picks the range (its last 7 days): "now" is the platform clock, which the demo runs fast.
  const readings = await api(`/api/devices/${enc}/readings${qs({ limit: 600 })}`).catch(() => null);
  // sampling verification may not be served (no sampling part): then there are no records to show
  const verifications = await api(`/api/verifications${qs({ deviceId: d.id })}`).then((r) => r.items).catch(() => []);

  const est = state.estimate;
  const trend = state.trend;
  // a trend within its noise (the server's trendIsReal, as the grade takes it) gets no crossing drawn or dated
  const significant = !!trend?.real;
  view.append(
    h('div.pagehead', h('h1', `${t('device.title')} ${d.id}`), gradeChip(state.grade)),
    h(
      'div.grid',
      section(
        `${t(`kind.${d.kind}`)} · ${t(`region.${d.region}`)}`,
        h(
          'dl.facts',
          h('dt', t('device.model')), h('dd', d.model),
          h('dt', t('device.class')), h('dd', d.accuracyClass),
          h('dt', t('device.site')), h('dd', d.site),
          h('dt', t('device.installed')), h('dd', d.installDate),
        ),
        state.order ? h('p.warn', `${t('device.order')} · ${fmtDay(state.order.issuedAt)}`) : null,
      ),
      section(
        t('device.estimate'),
        !state.analysed || !est || est.sd === null
          ? h('p.muted', t('device.notAnalysed'))
          : h(
              'dl.facts',
              h('dt', t('chart.ratio')), h('dd.big', `${pct(est.ratio, 1)}${est.sd !== null ? ` ± ${pct(1.96 * est.sd, 1)}` : ''}`),
              h('dt', t('device.pOut')), h('dd', pct(est.pOut)),
              state.verified ? [h('dt', t('device.verified')), h('dd.verified', `${fmtDay(state.verified.at)} · ${pct(state.verified.ratio, 1)} ± ${pct(1.96 * state.verified.sd, 1)}`)] : null,
              h('dt', t('device.trend')), h('dd', trend ? `${(trend.slopePerDay * 100).toFixed(2)}%${trend.slopeSd != null ? ` ± ${(1.96 * trend.slopeSd * 100).toFixed(2)}%` : ''}${t('device.perDay')}` : '—'),
              h('dt', t('device.crossing')), h('dd.crossing', significant && trend.crossingAt ? fmtDay(trend.crossingAt) : trend && !significant ? t('device.trendNoise') : t('device.noCrossing')),
            ),
        h('h3', t('device.reasons')),
        state.reasons.length ? h('ul.reasons', state.reasons.map((r) => h('li', tr(r)))) : h('p.muted', '—'),
      ),
    ),
    section(t('device.errorChart'), h('div.chart#est-chart')),
    section(t('device.readings'), h('div.chart#read-chart')),
    h(
      'div.grid',
      section(
        t('device.history'),
        grades.items.length === 0
          ? h('p.muted', '—')
          : h('table', h('thead', h('tr', h('th', t('common.when')), h('th', t('common.grade')), h('th', t('device.reasons')))), h('tbody', grades.items.map((g) => h('tr', h('td', fmtTime(g.at)), h('td', gradeChip(g.grade)), h('td', g.reasons.map((r) => tr(r)).join('；')))))),
      ),
      section(
        t('device.alerts'),
        state.alerts.length === 0
          ? h('p.muted', '—')
          : h('ul.list', state.alerts.map((a) => h('li', severityChip(a.severity), ' ', statusChip(a.status), ' ', tr(a.summary), ' ', h('span.muted', fmtTime(a.openedAt))))),
      ),
      section(
        t('device.verification'),
        verifications.length === 0
          ? h('p.muted', t('device.verificationNone'))
          : h('table.verifications', h('thead', h('tr', [t('inspector.date'), t('inspector.error'), t('inspector.mpe'), '', t('inspector.certificate'), t('inspector.seal'), t('sampling.actor')].map((c) => h('th', c)))), h('tbody', verifications.map((v) => h('tr', h('td', v.date), h('td.num', pct(v.error, 2)), h('td.num', `±${pct(v.mpe, 2)}`), h('td', passBadge(v.pass)), h('td', v.certificate), h('td', v.seal), h('td', v.inspector))))),
      ),
    ),
  );
  if (estimates.items.length) estimateChart(view.querySelector('#est-chart'), estimates.items, significant ? (trend.crossingAt ?? null) : null);
  else view.querySelector('#est-chart').append(h('p.muted', t('device.notAnalysed')));
  if (readings && readings.items.length) readingsChart(view.querySelector('#read-chart'), d.kind, readings);
  else view.querySelector('#read-chart').append(h('p.muted', '—'));
}
