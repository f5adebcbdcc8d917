import { h } from '../dom.js';
import { t } from '../i18n.js';
import { section } from '../widgets.js';

/** Lots and sampling: a placeholder until the sampling API is served (issue 5). */
export async function renderSampling(view) {
  view.append(h('div.pagehead', h('h1', t('sampling.title'))), section(t('sampling.title'), h('p.muted', t('sampling.none'))));
}
