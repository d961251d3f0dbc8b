// The dashboard's shell: sign-in, header (navigation, live state, language, theme), the router over
// /chat, /jobs, /jobs/ID, /usage and /settings (filters in the query string), and the command palette.
import { h, fill, select } from './dom.js';
import { t, detect, load, setLanguage, language, languages } from './i18n.js';
import { gql } from './api.js';
import { session } from './session.js';
import { live } from './live.js';
import { toast, toastError } from './components/toast.js';
import { openPalette } from './components/palette.js';
import * as chat from './pages/chat.js';
import * as jobs from './pages/jobs.js';
import * as job from './pages/job.js';
import * as usage from './pages/usage.js';
import * as settings from './pages/settings.js';

const pages = { chat, jobs, usage, settings };
const app = document.getElementById('app');
let cleanup = null;
let mainElement = null;

function navigate(url, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', url);
  render();
}

function setTheme(theme) {
  localStorage.setItem('agg.theme', theme);
  document.documentElement.dataset.theme = theme;
}

function themeSelect() {
  return select({ 'aria-label': t('theme.label'), onchange: (e) => setTheme(e.target.value) },
    ['system', 'light', 'dark'].map((v) => [v, t(`theme.${v}`)]), document.documentElement.dataset.theme);
}

function languageSelect() {
  return select({ 'aria-label': t('language.label'), onchange: (e) => changeLanguage(e.target.value) },
    languages.map((v) => [v, t(`language.${v}`)]), language());
}

async function changeLanguage(lang) {
  await setLanguage(lang);
  render();
}

function liveIndicator() {
  const el = h('span', { class: 'live', role: 'status', 'data-state': live.state });
  const update = () => {
    el.dataset.state = live.state;
    el.textContent = t(`live.${live.state}`);
  };
  update();
  live.addEventListener('state', update);
  return { el, dispose: () => live.removeEventListener('state', update) };
}

function header(current) {
  const bar = h('header', { class: 'topbar', 'data-open': 'false' });
  const tools = h('div', { class: 'tools' });
  if (session.key) {
    const menu = h('button', { type: 'button', class: 'menu-button', 'aria-expanded': 'false', 'aria-controls': 'nav' }, t('nav.menu'));
    menu.addEventListener('click', () => {
      const open = bar.dataset.open !== 'true';
      bar.dataset.open = String(open);
      menu.setAttribute('aria-expanded', String(open));
    });
    const nav = h('nav', { id: 'nav', class: 'nav', 'aria-label': t('nav.label') },
      Object.keys(pages).map((name) => h('a', { href: `/${name}`, 'aria-current': name === current ? 'page' : null }, t(`nav.${name}`))));
    const indicator = liveIndicator();
    headerDisposers.push(indicator.dispose);
    tools.append(
      indicator.el,
      h('button', { type: 'button', class: 'wide', onclick: () => palette(), 'aria-keyshortcuts': 'Control+K Meta+K' }, t('palette.open')),
      languageSelect(), themeSelect(),
      h('span', { class: 'wide muted' }, session.admin ? t('signin.admin') : session.name),
      h('button', { type: 'button', onclick: signOut }, t('signin.out')));
    bar.append(h('a', { class: 'brand', href: '/chat' }, t('app.name')), menu, nav, tools);
  } else {
    tools.append(languageSelect(), themeSelect());
    bar.append(h('span', { class: 'brand' }, t('app.name')), tools);
  }
  return bar;
}

let headerDisposers = [];

function shell(current) {
  headerDisposers.forEach((dispose) => dispose());
  headerDisposers = [];
  mainElement = h('main', { id: 'main', tabindex: '-1' });
  fill(app, h('a', { class: 'skip', href: '#main' }, t('nav.skip')), header(current), mainElement);
  return mainElement;
}

function signInView() {
  const main = shell(null);
  document.title = `${t('signin.title')} · ${t('app.name')}`;
  const input = h('input', { id: 'key', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'key-help' });
  const error = h('p', { id: 'key-error', class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('signin.submit'));
  const form = h('form', null,
    h('label', { for: 'key' }, t('signin.key')), input,
    h('p', { id: 'key-help', class: 'muted' }, t('signin.help')), error, button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    button.disabled = true;
    error.textContent = '';
    try {
      const { me } = await gql('{ me { id name } }', {}, key);
      let admin = false;
      try {
        await gql('{ tenants { id } }', {}, key);
        admin = true;
      } catch {
        admin = false;
      }
      session.save(key, me.name, admin);
      live.start();
      toast(t('signin.welcome', { name: admin ? t('signin.admin') : me.name }));
      const here = location.pathname + location.search;
      navigate(here === '/' ? '/chat' : here, { replace: true });
    } catch (e) {
      error.textContent = t('signin.wrong');
      toastError(e);
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  main.append(h('section', { class: 'signin panel' }, h('h1', null, t('signin.title')), form));
  input.focus();
}

function signOut() {
  session.clear();
  live.stop();
  navigate('/', { replace: true });
}

function render() {
  cleanup?.();
  cleanup = null;
  if (!session.key) {
    signInView();
    return;
  }
  const path = location.pathname;
  if (path === '/' || path === '/index.html') {
    history.replaceState(null, '', '/chat');
    render();
    return;
  }
  const m = /^\/(chat|jobs|usage|settings)(?:\/([^/]+))?\/?$/.exec(path);
  const main = shell(m?.[1]);
  const ctx = {
    params: new URLSearchParams(location.search),
    navigate,
    admin: session.admin,
    setTitle: (title) => { document.title = `${title} · ${t('app.name')}`; },
  };
  if (!m || (m[2] && m[1] !== 'jobs')) {
    ctx.setTitle(t('notfound.title'));
    main.append(h('h1', null, t('notfound.title')), h('p', null, h('a', { href: '/chat' }, t('notfound.back'))));
    return;
  }
  cleanup = m[2] ? job.render(main, { ...ctx, id: decodeURIComponent(m[2]) }) : pages[m[1]].render(main, ctx);
}

function palette() {
  const go = (path) => () => navigate(path);
  openPalette(() => [
    ...Object.keys(pages).map((name) => ({ label: `${t('palette.go')}: ${t(`nav.${name}`)}`, run: go(`/${name}`), keywords: name })),
    { label: t('palette.newChat'), run: () => { sessionStorage.removeItem('agg.chat'); navigate('/chat'); } },
    { label: t('palette.failedJobs'), run: go('/jobs?status=FAILED') },
    { label: t('palette.usageMonth'), run: go('/usage?preset=month') },
    ...(session.admin ? [{ label: t('palette.createTenant'), run: go('/settings#tenants') }] : []),
    ...['light', 'dark', 'system'].map((v) => ({ label: `${t('theme.label')}: ${t(`theme.${v}`)}`, run: () => { setTheme(v); render(); } })),
    ...languages.map((v) => ({ label: `${t('language.label')}: ${t(`language.${v}`)}`, run: () => changeLanguage(v) })),
    { label: t('signin.out'), run: signOut },
  ], (text) => (/^[0-9a-f-]{36}$/i.test(text) ? [{ label: t('palette.openJob', { id: text }), run: go(`/jobs/${text}`) }] : []));
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  if (link.target || link.hasAttribute('download') || link.origin !== location.origin || link.getAttribute('href').startsWith('#')) return;
  event.preventDefault();
  navigate(link.pathname + link.search + link.hash);
  mainElement?.focus();
});

document.addEventListener('keydown', (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k' && session.key) {
    event.preventDefault();
    palette();
  }
});

window.addEventListener('popstate', render);
window.addEventListener('agg:signed-out', () => {
  if (!session.key) return;
  session.clear();
  live.stop();
  toast(t('signin.expired'), 'error');
  render();
});

await load(detect());
if (session.key) live.start();
render();
