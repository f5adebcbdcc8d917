import { api, session, setSession, stream, whenUnauthorized } from './api.js';
import { clear, h, toast } from './dom.js';
import { tr } from './format.js';
import { lang, setLang, t } from './i18n.js';
import { renderAccount } from './pages/account.js';
import { renderAlerts } from './pages/alerts.js';
import { renderDevice } from './pages/device.js';
import { renderInspector, renderInspectorList } from './pages/inspector.js';
import { renderLogin } from './pages/login.js';
import { renderOverview } from './pages/overview.js';
import { renderLot, renderSampling } from './pages/sampling.js';

const view = document.getElementById('view');
const top = document.getElementById('top');
const alertListeners = new Set();
let stopStream = null;
let cleanup = null;

/** Pages subscribe to live alerts through this; the subscription ends when the page is left. */
const ctx = {
  onAlert(fn) {
    alertListeners.add(fn);
    return () => alertListeners.delete(fn);
  },
  user: () => session()?.user ?? null,
  go: (hash) => {
    location.hash = hash;
  },
};

const ROUTES = [
  [/^#\/overview$/, (m) => renderOverview(view, ctx)],
  [/^#\/alerts(?:\?(.*))?$/, (m) => renderAlerts(view, ctx, new URLSearchParams(m[1] ?? ''))],
  [/^#\/device\/([^/]+)$/, (m) => renderDevice(view, ctx, decodeURIComponent(m[1]))],
  [/^#\/sampling$/, () => renderSampling(view, ctx)],
  [/^#\/sampling\/lot\/([^/]+)$/, (m) => renderLot(view, ctx, decodeURIComponent(m[1]))],
  [/^#\/inspector$/, () => renderInspector(view, ctx)],
  [/^#\/inspector\/list\/([^/]+)$/, (m) => renderInspectorList(view, ctx, decodeURIComponent(m[1]))],
  // after a password change every session has ended: back to the login page
  [/^#\/account$/, () => renderAccount(view, ctx, () => route())],
];

function nav() {
  const user = ctx.user();
  const links = [
    ['#/overview', 'nav.overview'],
    ['#/alerts', 'nav.alerts'],
    ['#/sampling', 'nav.sampling'],
    ['#/inspector', 'nav.inspector'],
  ];
  const n = clear(document.getElementById('nav'));
  // inspectors work lists; lots and plans are for regulators and admins (the API answers 403 anyway)
  for (const [href, key] of links.filter(([href]) => href !== '#/sampling' || user.role !== 'inspector')) n.append(h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : null }, t(key)));
  document.getElementById('lang').textContent = t('nav.lang');
  document.getElementById('logout').textContent = t('nav.logout');
  const regions = user.role === 'admin' ? t('region.all') : user.regions.map((r) => t(`region.${r}`)).join('、');
  document.getElementById('who').textContent = `${user.username} · ${regions}`;
}

function setLive(state) {
  const el = document.getElementById('live');
  el.textContent = state === 'live' ? t('live.on') : t('live.off');
  el.dataset.state = state;
}

function startStream() {
  stopStream?.();
  stopStream = stream('/api/alerts/stream', (event, data) => {
    if (event !== 'alert') return;
    if (data.change === 'opened') toast(`${t('alerts.new')}: ${data.alert.deviceId} — ${tr(data.alert.summary)}`);
    for (const l of alertListeners) l(data);
  }, setLive);
}

async function route() {
  cleanup?.();
  cleanup = null;
  alertListeners.clear();
  if (!session()) {
    top.hidden = true;
    stopStream?.();
    stopStream = null;
    renderLogin(view, () => {
      location.hash = '#/overview';
      startStream();
      route();
    });
    return;
  }
  top.hidden = false;
  if (!stopStream) startStream();
  if (!location.hash || location.hash === '#/' || location.hash === '#') {
    location.replace('#/overview');
    return;
  }
  nav();
  for (const [re, render] of ROUTES) {
    const m = re.exec(location.hash);
    if (m) {
      clear(view);
      try {
        cleanup = (await render(m)) ?? null;
      } catch (err) {
        view.append(h('p.error', `${t('error.generic')}: ${err.message}`));
      }
      return;
    }
  }
  location.replace('#/overview');
}

whenUnauthorized(() => {
  setSession(null);
  route();
});

document.getElementById('lang').addEventListener('click', () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  setLive(document.getElementById('live').dataset.state);
  route();
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch {
    // the session is forgotten here whatever the server says
  }
  setSession(null);
  location.hash = '';
  route();
});

window.addEventListener('hashchange', route);
route();
