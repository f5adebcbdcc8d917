import { api, ApiError, setSession } from '../api.js';
import { h } from '../dom.js';
import { lang, setLang, t } from '../i18n.js';

export function renderLogin(view, done) {
  const draw = () => {
    view.replaceChildren();
    const err = h('p.error', { role: 'alert' });
    const user = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
    const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const form = h(
      'form.card.login',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          err.textContent = '';
          try {
            const s = await api('/api/auth/login', { method: 'POST', body: { username: user.value.trim(), password: pass.value } });
            setSession(s);
            done();
          } catch (ex) {
            err.textContent = ex instanceof ApiError && ex.status === 429 ? t('login.limited') : ex instanceof ApiError && ex.status === 401 ? t('login.failed') : `${t('error.generic')}: ${ex.message}`;
          }
        },
      },
      h('h1', 'driftwatch'),
      h('p.muted', t('app.title')),
      h('label', t('login.username'), user),
      h('label', t('login.password'), pass),
      h('button.primary', { type: 'submit' }, t('login.submit')),
      err,
      h('button.link', { type: 'button', onclick: () => (setLang(lang() === 'zh' ? 'en' : 'zh'), draw()) }, t('nav.lang')),
    );
    view.append(form);
  };
  draw();
}
