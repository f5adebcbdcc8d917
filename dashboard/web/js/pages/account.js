import { api, ApiError, setSession } from '../api.js';
import { h, toast } from '../dom.js';
import { t } from '../i18n.js';

/** The signed-in user's account: who they are, and a change of their own password (which ends every session of theirs). */
export function renderAccount(view, ctx, done) {
  const user = ctx.user();
  const err = h('p.error', { role: 'alert' });
  const current = h('input', { name: 'current', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 200 });
  const again = h('input', { name: 'repeat', type: 'password', autocomplete: 'new-password', required: true, minlength: 10, maxlength: 200 });
  const form = h(
    'form.card.account',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        err.textContent = '';
        if (next.value !== again.value) {
          err.textContent = t('account.mismatch');
          return;
        }
        try {
          await api('/api/auth/password', { method: 'POST', body: { current: current.value, password: next.value } });
          toast(t('account.done'));
          setSession(null);
          done();
        } catch (ex) {
          err.textContent =
            ex instanceof ApiError && ex.status === 403 ? t('account.wrong') : ex instanceof ApiError && ex.status === 429 ? t('login.limited') : `${t('error.generic')}: ${ex.message}`;
        }
      },
    },
    h('h2', t('account.password')),
    h('label', t('account.current'), current),
    h('label', t('account.new'), next),
    h('label', t('account.repeat'), again),
    h('button.primary', { type: 'submit' }, t('account.submit')),
    err,
  );
  const regions = user.role === 'admin' ? t('region.all') : user.regions.map((r) => t(`region.${r}`)).join('、');
  view.append(
    h('h1', t('account.title')),
    h('dl.card.facts', h('dt', t('login.username')), h('dd', user.username), h('dt', t('account.role')), h('dd', user.role), h('dt', t('account.regions')), h('dd', regions)),
    form,
  );
}
