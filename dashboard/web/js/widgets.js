import { h } from './dom.js';
import { gradeLabel } from './format.js';
import { t } from './i18n.js';

export const REGIONS = ['SH', 'JS', 'ZJ', 'AH'];

/** Regions the user may pick from ('' = all of theirs). */
export function regionSelect(user, value, onchange) {
  const mine = user.role === 'admin' ? REGIONS : user.regions;
  const opts = [['', t('region.all')], ...mine.map((r) => [r, t(`region.${r}`)])];
  return h('select', { name: 'region', onchange: (e) => onchange(e.target.value) }, opts.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export const gradeChip = (g) => h(`span.chip.grade-${g ?? 'none'}`, gradeLabel(g));
export const severityChip = (s) => h(`span.chip.sev-${s}`, t(`severity.${s}`));
export const statusChip = (s) => h(`span.status.status-${s}`, t(`status.${s}`));

export function section(title, ...body) {
  return h('section.card', h('h2', title), ...body);
}

/**
 * Fetches a file through the API client (bearer token, and a 401 ends the session as for any
 * call), then saves it under `download` or, without one, opens it in a new tab from a blob URL.
 */
export async function fetchFile(api, path, type, download) {
  const text = await api(path);
  const url = URL.createObjectURL(new Blob([text], { type }));
  if (download) {
    const a = h('a', { href: url, download });
    document.body.append(a);
    a.click();
    a.remove();
  } else window.open(url, '_blank');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** CSV and print links of a sampling list: both routes need the bearer token, which a plain link cannot carry. */
export function listLinks(listId, api) {
  const enc = encodeURIComponent(listId);
  return h(
    'span.links',
    h('button.csv', { type: 'button', onclick: () => fetchFile(api, `/api/sampling-lists/${enc}/csv`, 'text/csv', `${listId}.csv`) }, t('sampling.csv')),
    ' ',
    h('button.print', { type: 'button', onclick: () => fetchFile(api, `/api/sampling-lists/${enc}/print`, 'text/html', null) }, t('sampling.print')),
  );
}

/** A lot's grade mix as a bar of proportional segments, each with its letter and count. */
export function gradeMix(mix) {
  const keys = ['A', 'B', 'C', 'D', 'unknown'];
  const total = keys.reduce((s, k) => s + (mix[k] ?? 0), 0) || 1;
  return h(
    'span.mix',
    keys.filter((k) => mix[k] > 0).map((k) => h(`span.seg.grade-${k === 'unknown' ? 'none' : k}`, { style: { flexGrow: String(mix[k] / total) }, title: `${k === 'unknown' ? '–' : k}: ${mix[k]}` }, `${k === 'unknown' ? '–' : k} ${mix[k]}`)),
  );
}
