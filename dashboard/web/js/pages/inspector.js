import { h } from '../dom.js';
import { t } from '../i18n.js';

/** The inspector's lists, laid out for a phone; filled once sampling lists are served (issue 5). */
export async function renderInspector(view, ctx) {
  const user = ctx.user();
  view.append(
    h(
      'div.phone',
      h('h1', t('inspector.title')),
      h('p.muted', t('inspector.hint')),
      h('p.regions', user.role === 'admin' ? t('region.all') : user.regions.map((r) => t(`region.${r}`)).join('、')),
      h('div.card', h('p', t('inspector.none'))),
    ),
  );
}
