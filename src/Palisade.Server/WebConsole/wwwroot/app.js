// The console's shell: sign-in, the header, and a hash router (#/groups/sg-…) so every page has an
// address a person can bookmark and the server serves one file for all of them.
import { h, fill, field, select } from './dom.js';
import { call, session, items } from './api.js';
import { errorBox } from './ui.js';
import { groupsPage, groupPage } from './groups.js';
import { instancesPage, instancePage } from './instances.js';
import { auditPage } from './audit.js';
import { reachPage } from './reach.js';
import { explainPage } from './explain.js';
import { prefixListsPage, prefixListPage } from './prefixlists.js';

const routes = [
  [/^#\/groups\/(sg-[\w-]+)$/, (view, id) => groupPage(view, id)],
  [/^#\/groups$/, view => groupsPage(view)],
  [/^#\/instances\/(i-[\w-]+)$/, (view, id) => instancePage(view, id)],
  [/^#\/instances$/, view => instancesPage(view)],
  [/^#\/prefix-lists\/(pl-[\w-]+)$/, (view, id) => prefixListPage(view, id)],
  [/^#\/prefix-lists$/, view => prefixListsPage(view)],
  [/^#\/audit$/, view => auditPage(view)],
  [/^#\/reach\/(sg-[\w-]+)$/, (view, id) => reachPage(view, id)],
  [/^#\/reach$/, view => reachPage(view)],
  [/^#\/explain$/, view => explainPage(view)],
];

/** The regions this server serves (regions.json, DescribeRegions' list), for the sign-in form. */
async function servedRegions() {
  try {
    const response = await fetch('regions.json', { cache: 'no-store' });
    if (response.ok) return await response.json();
  } catch {
    // Offline or an old server: the form still takes the region as typed, and DescribeRegions judges it.
  }
  return null;
}

async function signInPage(main) {
  const keyId = h('input', { name: 'accessKeyId', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', { name: 'accessKeySecret', type: 'password', autocomplete: 'current-password', required: true });
  const regions = await servedRegions();
  const region = regions
    ? select({ name: 'regionId', required: true }, regions.map(r => [r.RegionId, `${r.RegionId} — ${r.LocalName}`]), regions.some(r => r.RegionId === 'cn-hangzhou') ? 'cn-hangzhou' : regions[0]?.RegionId)
    : h('input', { name: 'regionId', value: 'cn-hangzhou', required: true, spellcheck: 'false' });
  const problem = h('div', { class: 'problem' });
  const form = h('form', { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', {}, 'Use an AccessKey of your Palisade account (', h('code', {}, 'palisade accesskey create'), '). The secret stays in this browser tab and signs each request; it is never sent.'),
    field('AccessKey ID', keyId),
    field('AccessKey secret', secret),
    field('Region', region, 'The region whose groups and instances you manage: one this server serves.'),
    problem,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const credentials = { accessKeyId: keyId.value.trim(), accessKeySecret: secret.value, regionId: region.value.trim() };
    fill(problem);
    try {
      // A signed call proves the key; DescribeRegions also tells whether the region exists.
      const regions = items(await call('DescribeRegions', {}, { credentials: { ...credentials, regionId: null } }), 'Regions', 'Region').map(r => r.RegionId);
      if (!regions.includes(credentials.regionId)) {
        fill(problem, h('div', { class: 'error', role: 'alert' }, `There is no region ${credentials.regionId}. Regions: ${regions.join(', ')}.`));
        region.focus();
        return;
      }
      session.set(credentials);
      navigate('#/groups');
    } catch (e) {
      fill(problem, errorBox(e));
      keyId.focus();
    }
  });
  fill(main, form);
  keyId.focus();
}

function header(credentials) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  nav.hidden = !credentials;
  if (!credentials) {
    fill(who);
    return;
  }
  fill(who,
    h('span', { class: 'key' }, h('span', { class: 'visually-hidden' }, 'Signed in with '), credentials.accessKeyId),
    h('span', { class: 'region' }, credentials.regionId),
    h('button', { type: 'button', onclick: () => { session.clear(); navigate('#/signin'); } }, 'Sign out'));
  for (const link of nav.querySelectorAll('a')) {
    const current = location.hash === link.getAttribute('href') || location.hash.startsWith(link.getAttribute('href') + '/');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Goes to `hash`, rendering once whether or not the hash changes. */
function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

/**
 * Each render draws into a view of its own: a page still loading when the person moves on fills a
 * view that is no longer shown, instead of overwriting the page they went to.
 */
async function render() {
  const credentials = session.get();
  header(credentials);
  const view = h('div', { class: 'view' });
  document.getElementById('main').replaceChildren(view);
  if (!credentials) {
    await signInPage(view);
    return;
  }
  if (!location.hash || location.hash === '#/signin') {
    location.replace('#/groups');
    return;
  }
  const route = routes.find(([pattern]) => pattern.test(location.hash));
  if (!route) {
    fill(view, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'The console has no page at this address. ', h('a', { href: '#/groups' }, 'Security groups')));
    return;
  }
  const [pattern, page] = route;
  await page(view, ...location.hash.match(pattern).slice(1));
  // A new page: move focus to its heading, as a page load would, so screen readers announce it.
  if (!view.isConnected) return;
  view.querySelector('h1')?.setAttribute('tabindex', '-1');
  view.querySelector('h1')?.focus({ preventScroll: true });
}

window.addEventListener('hashchange', render);
render();
