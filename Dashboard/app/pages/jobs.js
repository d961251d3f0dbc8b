// Jobs: every JobFilter field in the URL, cursor pages with the total, live updates from jobUpdated
// (a changed row is updated in place; new jobs show as a chip instead of reshuffling the page), and a form
// to create a job.
import { h, fill, field, select } from '../dom.js';
import { t, int } from '../i18n.js';
import { gql } from '../api.js';
import { live } from '../live.js';
import { utc } from '../format.js';
import { toast, toastError } from '../components/toast.js';

export const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'];
const FILTERS = ['status', 'type', 'provider', 'model', 'from', 'to', 'search', 'tenantId'];
const PAGE_SIZE = 20;

export const JOB_FIELDS = 'id tenantId type status input result error provider model attempts tokensIn tokensOut cost createdAt updatedAt startedAt finishedAt';

const LIST = `query Jobs($filter: JobFilter, $first: Int, $after: String) {
  jobs(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id tenantId type status provider model tokensIn tokensOut cost createdAt } }
  }
}`;

/** "2026-12-01T10:00" (a datetime-local value, read as UTC) → RFC 3339, and back. */
const toRFC = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}Z` : null);
const toLocal = (rfc) => (rfc ? rfc.replace(/Z$/, '').slice(0, 19) : '');

export function statusBadge(status) {
  return h('span', { class: `badge ${status}` }, t(`status.${status}`));
}

export function render(main, ctx) {
  ctx.setTitle(t('nav.jobs'));
  const params = ctx.params;
  const filter = {};
  for (const name of FILTERS) if (params.get(name)) filter[name] = params.get(name);
  const after = params.get('after');
  // Cursors of the pages before this one, so Prev can go back; a deep link to a later page starts a new stack.
  const back = (params.get('back') || '').split(' ').filter(Boolean);
  let fresh = 0;

  const controls = {
    status: select({ name: 'status' }, [['', t('filter.any')], ...STATUSES.map((s) => [s, t(`status.${s}`)])], filter.status || ''),
    type: select({ name: 'type' }, [['', t('filter.any')], ['TEXT', 'TEXT'], ['IMAGE', 'IMAGE']], filter.type || ''),
    provider: select({ name: 'provider' }, [['', t('filter.any')]], ''),
    model: h('input', { name: 'model', value: filter.model || '', list: 'job-models', autocomplete: 'off' }),
    from: h('input', { name: 'from', type: 'datetime-local', step: 1, value: toLocal(filter.from) }),
    to: h('input', { name: 'to', type: 'datetime-local', step: 1, value: toLocal(filter.to) }),
    search: h('input', { name: 'search', type: 'search', value: filter.search || '' }),
    tenantId: ctx.admin ? select({ name: 'tenantId' }, [['', t('filter.any')]], '') : null,
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('jobs.filters') },
    field(t('jobs.status'), controls.status), field(t('jobs.type'), controls.type), field(t('jobs.provider'), controls.provider),
    field(t('jobs.model'), controls.model), field(t('jobs.fromUTC'), controls.from), field(t('jobs.toUTC'), controls.to),
    field(t('jobs.search'), controls.search), ctx.admin ? field(t('jobs.tenant'), controls.tenantId) : null,
    h('button', { type: 'submit', class: 'primary' }, t('filter.apply')),
    h('a', { href: '/jobs', class: 'button' }, t('filter.reset')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const name of FILTERS) {
      const control = controls[name];
      if (!control?.value) continue;
      next.set(name, name === 'from' || name === 'to' ? toRFC(control.value) : control.value.trim());
    }
    ctx.navigate(`/jobs${next.size ? `?${next}` : ''}`);
  });
  for (const name of ['status', 'type', 'provider', 'tenantId']) controls[name]?.addEventListener('change', () => form.requestSubmit());

  const summary = h('p', { id: 'jobs-total', role: 'status' });
  const chip = h('button', { type: 'button', class: 'chip', hidden: true, onclick: () => ctx.navigate(location.pathname + location.search) });
  const body = h('tbody');
  const table = h('div', { class: 'table-wrap' }, h('table', { id: 'jobs-table' },
    h('caption', { class: 'visually-hidden' }, t('nav.jobs')),
    h('thead', null, h('tr', null, [t('jobs.created'), t('jobs.status'), t('jobs.type'), t('jobs.model'), t('jobs.provider'),
      t('jobs.tokensIn'), t('jobs.tokensOut'), t('jobs.costUSD'), ctx.admin ? t('jobs.tenant') : null, t('jobs.id')]
      .filter(Boolean).map((text, k) => h('th', { scope: 'col', class: k >= 5 && k <= 7 ? 'num' : null }, text)))),
    body));
  const prev = h('button', { type: 'button', disabled: !after }, t('pager.prev'));
  const next = h('button', { type: 'button', disabled: true }, t('pager.next'));
  const pageInfo = h('span', { class: 'muted' });
  const pager = h('nav', { class: 'pager', 'aria-label': t('pager.label') }, prev, pageInfo, next);

  const link = (extra) => {
    const p = new URLSearchParams();
    for (const name of FILTERS) if (filter[name]) p.set(name, filter[name]);
    for (const [k, v] of Object.entries(extra)) if (v) p.set(k, v);
    return `/jobs${p.size ? `?${p}` : ''}`;
  };
  prev.addEventListener('click', () => ctx.navigate(link({ after: back.at(-1), back: back.slice(0, -1).join(' ') })));

  const row = (j) => h('tr', { 'data-id': j.id },
    h('td', null, utc(j.createdAt)), h('td', null, statusBadge(j.status)), h('td', null, j.type),
    h('td', null, j.model || '—'), h('td', null, j.provider || '—'),
    h('td', { class: 'num' }, int(j.tokensIn)), h('td', { class: 'num' }, int(j.tokensOut)), h('td', { class: 'num' }, j.cost),
    ctx.admin ? h('td', { class: 'mono' }, tenantNames.get(j.tenantId) || j.tenantId.slice(0, 8)) : null,
    h('td', null, h('a', { href: `/jobs/${j.id}`, class: 'mono', 'aria-label': t('jobs.open', { id: j.id }) }, j.id.slice(0, 8))));
  let tenantNames = new Map();

  async function load() {
    try {
      const { jobs } = await gql(LIST, { filter, first: PAGE_SIZE, after });
      fill(body, jobs.edges.length ? jobs.edges.map((e) => row(e.node)) : h('tr', null, h('td', { colspan: 10, class: 'muted' }, t('jobs.none'))));
      const page = after ? back.length + 2 : 1;
      const pages = Math.max(1, Math.ceil(jobs.totalCount / PAGE_SIZE));
      summary.textContent = t('jobs.total', { n: int(jobs.totalCount) });
      pageInfo.textContent = t('pager.page', { page: int(page), pages: int(pages) });
      next.disabled = !jobs.pageInfo.hasNextPage;
      next.onclick = () => ctx.navigate(link({ after: jobs.pageInfo.endCursor, back: after ? [...back, after].join(' ') : '' }));
      fresh = 0;
      chip.hidden = true;
    } catch (e) {
      toastError(e);
    }
  }

  const modelList = h('datalist', { id: 'job-models' });
  const create = createForm(ctx);
  main.append(h('h1', null, t('nav.jobs')), form, modelList, h('div', { class: 'row' }, summary, chip), table, pager, create);

  gql(`{ providers { name } models { id } routes { alias } ${ctx.admin ? 'tenants { id name }' : ''} }`).then((data) => {
    for (const p of data.providers) controls.provider.append(h('option', { value: p.name, selected: p.name === filter.provider }, p.name));
    fill(modelList, [...data.routes.map((r) => r.alias), ...data.models.map((m) => m.id)].map((id) => h('option', { value: id })));
    if (ctx.admin) {
      tenantNames = new Map(data.tenants.map((x) => [x.id, x.name]));
      for (const x of data.tenants) controls.tenantId.append(h('option', { value: x.id, selected: x.id === filter.tenantId }, x.name));
    }
    create.setModels(data.routes.map((r) => r.alias), data.models.map((m) => m.id));
    load();
  }, toastError);

  const unsubscribe = live.subscribe(`subscription { jobUpdated { id tenantId type status provider model tokensIn tokensOut cost createdAt } }`, {}, (data) => {
    const j = data?.jobUpdated;
    if (!j) return;
    const shown = body.querySelector(`tr[data-id="${CSS.escape(j.id)}"]`);
    if (shown) {
      shown.replaceWith(row(j));
    } else if (!after) {
      fresh += 1;
      chip.hidden = false;
      chip.textContent = t('jobs.new', { n: int(fresh) });
    }
  });
  const reload = () => load();
  live.addEventListener('recovered', reload);
  return () => {
    unsubscribe();
    live.removeEventListener('recovered', reload);
  };
}

/** "New job": createJob with a tenant's key (any model id or route alias; the known ones are suggested), then
 * its page. */
function createForm(ctx) {
  const model = h('input', { id: 'new-job-model', list: 'job-models', required: true, autocomplete: 'off' });
  const input = h('textarea', { id: 'new-job-input', rows: 3, required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, t('jobs.create'));
  const form = h('form', { class: 'panel', 'aria-labelledby': 'new-job-title' },
    h('h2', { id: 'new-job-title' }, t('jobs.newJob')),
    h('div', { class: 'filters' }, field(t('jobs.model'), model), field(t('jobs.input'), input), button));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const { createJob } = await gql('mutation($input: CreateJobInput!) { createJob(input: $input) { id } }',
        { input: { type: 'TEXT', model: model.value, input: input.value } });
      toast(t('jobs.created.toast'));
      ctx.navigate(`/jobs/${createJob.id}`);
    } catch (err) {
      toastError(err);
    } finally {
      button.disabled = false;
    }
  });
  form.setModels = (aliases, ids) => {
    if (!model.value) model.value = aliases[0] || ids[0] || '';
  };
  if (ctx.admin) {
    fill(form, h('h2', { id: 'new-job-title' }, t('jobs.newJob')), h('p', { class: 'muted' }, t('jobs.adminCannotCreate')));
    form.setModels = () => {};
  }
  return form;
}
