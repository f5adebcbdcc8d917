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
