// Settings: providers and their health, prices and routes (read by tenants, edited by the admin), a tenant's own
// limits and how much of them is used, and the admin's tenants: create (the key is shown once, with copy), rotate,
// activate, deactivate and set limits.
import { h, fill, field } from '../dom.js';
import { t, int } from '../i18n.js';
import { gql } from '../api.js';
import { utc, money } from '../format.js';
import { toast, toastError } from '../components/toast.js';
import { copyText } from '../components/clipboard.js';

const PRICE = 'provider model inputPricePerMillion outputPricePerMillion cacheReadPricePerMillion cacheWritePricePerMillion imagePrice isDefault updatedAt';
const LIMITS = 'limits { requestsPerMinute tokensPerMinute dailyBudget monthlyBudget }';
const TENANT = `id name active keyPrefix createdAt ${LIMITS}`;
const LIMIT_FIELDS = [['requestsPerMinute', 'settings.rpm'], ['tokensPerMinute', 'settings.tpm'], ['dailyBudget', 'settings.dailyBudget'],
  ['monthlyBudget', 'settings.monthlyBudget']];

/** "60 requests/min · 5.5 USD/day" — the limits that are set, or "none". */
function limitsText(limits) {
  const parts = LIMIT_FIELDS.filter(([name]) => limits[name] != null)
    .map(([name, key]) => `${t(key)}: ${name.endsWith('Budget') ? money(limits[name]) : int(limits[name])}`);
  return parts.length ? parts.join(' · ') : t('settings.noLimits');
}

function table(id, columns, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: columns.length, class: 'muted' }, t('settings.none'))))));
}

const yesNo = (v) => h('span', { class: `badge ${v ? 'ok' : 'bad'}` }, t(v ? 'settings.yes' : 'settings.no'));

async function mutate(query, variables, done) {
  try {
    const data = await gql(query, variables);
    toast(t('settings.saved'));
    done?.(data);
    return data;
  } catch (e) {
    toastError(e);
    return null;
  }
}

export function render(main, ctx) {
  ctx.setTitle(t('nav.settings'));
  const providers = h('section', { 'aria-labelledby': 'providers-title' }, h('h2', { id: 'providers-title' }, t('settings.providers')));
  const prices = h('section', { 'aria-labelledby': 'prices-title' }, h('h2', { id: 'prices-title' }, t('settings.prices')));
  const routes = h('section', { 'aria-labelledby': 'routes-title' }, h('h2', { id: 'routes-title' }, t('settings.routes')));
  const tenants = ctx.admin ? h('section', { id: 'tenants', 'aria-labelledby': 'tenants-title' }, h('h2', { id: 'tenants-title' }, t('settings.tenants'))) : null;
  const ownLimits = ctx.admin ? null : h('section', { id: 'limits', 'aria-labelledby': 'limits-title' });
  main.append(...[h('h1', null, t('nav.settings')), ownLimits, providers, prices, routes, tenants].filter(Boolean));
  // A new or rotated key: shown here once, never stored by the page.
  const keyBox = h('div', { id: 'new-key', 'aria-live': 'polite' });
  const showKey = ({ tenant, apiKey }) => {
    fill(keyBox, h('div', { class: 'key-once', role: 'status' },
      h('strong', null, t('settings.keyFor', { name: tenant.name })),
      h('code', { id: 'new-key-value' }, apiKey),
      h('p', null, t('settings.keyOnce')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', onclick: () => copyText(apiKey) }, t('settings.copyKey')),
        h('button', { type: 'button', onclick: () => keyBox.replaceChildren() }, t('settings.keyDone')))));
  };

  async function load() {
    try {
      const data = await gql(`{ providers { name enabled healthy streaming tools } pricing { ${PRICE} } routes { alias targets }
        ${ctx.admin ? `tenants { ${TENANT} }` : `limitStatus { ${LIMITS} requestsThisMinute tokensThisMinute spentToday spentThisMonth }`} }`);
      if (!ctx.admin) drawOwnLimits(data.limitStatus);
      drawProviders(data.providers);
      drawPrices(data.pricing);
      drawRoutes(data.routes);
      if (ctx.admin) drawTenants(data.tenants);
      if (location.hash === '#tenants') tenants?.scrollIntoView();
    } catch (e) {
      toastError(e);
    }
  }

  function drawOwnLimits(status) {
    const used = [
      [t('settings.rpm'), status.limits.requestsPerMinute, int(status.requestsThisMinute)],
      [t('settings.tpm'), status.limits.tokensPerMinute, int(status.tokensThisMinute)],
      [t('settings.dailyBudget'), status.limits.dailyBudget, money(status.spentToday)],
      [t('settings.monthlyBudget'), status.limits.monthlyBudget, money(status.spentThisMonth)],
    ];
    fill(ownLimits, h('h2', { id: 'limits-title' }, t('settings.yourLimits')), h('p', { class: 'muted' }, t('settings.limitsNote')),
      table('limits-table', [t('settings.limit'), t('settings.limitValue'), t('settings.used')],
        used.map(([name, limit, now]) => h('tr', null, h('td', null, name),
          h('td', { class: 'num' }, limit == null ? t('settings.noLimit') : (typeof limit === 'number' ? int(limit) : money(limit))),
          h('td', { class: 'num' }, now)))));
  }

  function drawProviders(list) {
    fill(providers, h('h2', { id: 'providers-title' }, t('settings.providers')),
      table('providers-table', [t('settings.provider'), t('settings.enabled'), t('settings.healthy'), t('settings.streaming'), t('settings.tools')],
        list.map((p) => h('tr', null, h('td', null, p.name), h('td', null, yesNo(p.enabled)), h('td', null, yesNo(p.healthy)),
          h('td', null, yesNo(p.streaming)), h('td', null, yesNo(p.tools))))));
  }

  function drawPrices(list) {
    const inputs = {
      provider: h('input', { name: 'provider', required: true }),
      model: h('input', { name: 'model', required: true }),
      inputPricePerMillion: h('input', { name: 'inputPricePerMillion', required: true, inputmode: 'decimal' }),
      outputPricePerMillion: h('input', { name: 'outputPricePerMillion', required: true, inputmode: 'decimal' }),
      cacheReadPricePerMillion: h('input', { name: 'cacheReadPricePerMillion', inputmode: 'decimal' }),
      cacheWritePricePerMillion: h('input', { name: 'cacheWritePricePerMillion', inputmode: 'decimal' }),
      imagePrice: h('input', { name: 'imagePrice', inputmode: 'decimal' }),
      isDefault: h('input', { name: 'isDefault', type: 'checkbox' }),
    };
    const edit = (p) => {
      for (const [name, input] of Object.entries(inputs)) {
        if (name === 'isDefault') input.checked = p.isDefault;
        else input.value = p[name] ?? '';
      }
      inputs.inputPricePerMillion.focus();
    };
    const rows = list.map((p) => h('tr', null,
      h('td', null, p.provider), h('td', null, p.model), h('td', { class: 'num' }, p.inputPricePerMillion), h('td', { class: 'num' }, p.outputPricePerMillion),
      h('td', { class: 'num' }, p.cacheReadPricePerMillion ?? '—'), h('td', { class: 'num' }, p.cacheWritePricePerMillion ?? '—'),
      h('td', { class: 'num' }, p.imagePrice ?? '—'), h('td', null, p.isDefault ? t('settings.yes') : ''), h('td', null, utc(p.updatedAt)),
      ctx.admin ? h('td', null, h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => edit(p), 'aria-label': t('settings.editPrice', { name: `${p.provider}/${p.model}` }) }, t('settings.edit')),
        confirmButton(t('settings.delete'), t('settings.deletePrice', { name: `${p.provider}/${p.model}` }), () => mutate(
          'mutation($p: String!, $m: String!) { deleteModelPrice(provider: $p, model: $m) }', { p: p.provider, m: p.model }, load)))) : null));
    const columns = [t('settings.provider'), t('jobs.model'), t('settings.inputPrice'), t('settings.outputPrice'), t('settings.cacheReadPrice'),
      t('settings.cacheWritePrice'), t('settings.imagePrice'), t('settings.default'), t('settings.updatedUTC'), ctx.admin ? t('settings.actions') : null].filter(Boolean);
    fill(prices, h('h2', { id: 'prices-title' }, t('settings.prices')), h('p', { class: 'muted' }, t('settings.pricesNote')), table('prices-table', columns, rows));
    if (!ctx.admin) return;
    const form = h('form', { class: 'panel', id: 'price-form', 'aria-label': t('settings.priceForm') },
      h('div', { class: 'filters' },
        field(t('settings.provider'), inputs.provider), field(t('jobs.model'), inputs.model),
        field(t('settings.inputPrice'), inputs.inputPricePerMillion), field(t('settings.outputPrice'), inputs.outputPricePerMillion),
        field(t('settings.cacheReadPrice'), inputs.cacheReadPricePerMillion), field(t('settings.cacheWritePrice'), inputs.cacheWritePricePerMillion),
        field(t('settings.imagePrice'), inputs.imagePrice), h('label', { class: 'row' }, inputs.isDefault, t('settings.default')),
        h('button', { type: 'submit', class: 'primary' }, t('settings.savePrice'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const input = {};
      for (const [name, control] of Object.entries(inputs)) {
        if (name === 'isDefault') input.isDefault = control.checked;
        else if (control.value.trim()) input[name] = control.value.trim();
      }
      mutate(`mutation($input: ModelPriceInput!) { upsertModelPrice(input: $input) { ${PRICE} } }`, { input }, load);
    });
    prices.append(form);
  }

  function drawRoutes(list) {
    const rows = list.map((r) => h('tr', null, h('td', { class: 'mono' }, r.alias), h('td', { class: 'mono' }, r.targets.join(', ')),
      ctx.admin ? h('td', null, h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => { alias.value = r.alias; targets.value = r.targets.join('\n'); targets.focus(); }, 'aria-label': t('settings.editRoute', { name: r.alias }) }, t('settings.edit')),
        confirmButton(t('settings.delete'), t('settings.deleteRoute', { name: r.alias }), () => mutate(
          'mutation($a: String!) { deleteModelRoute(alias: $a) }', { a: r.alias }, load)))) : null));
    fill(routes, h('h2', { id: 'routes-title' }, t('settings.routes')),
      table('routes-table', [t('settings.alias'), t('settings.targets'), ctx.admin ? t('settings.actions') : null].filter(Boolean), rows));
    if (!ctx.admin) return;
    const alias = h('input', { name: 'alias', required: true });
    const targets = h('textarea', { name: 'targets', required: true, rows: 3, placeholder: 'openai/gpt-4o-mini\nstub/echo' });
    const form = h('form', { class: 'panel', id: 'route-form', 'aria-label': t('settings.routeForm') },
      h('div', { class: 'filters' }, field(t('settings.alias'), alias), field(t('settings.targetsHelp'), targets),
        h('button', { type: 'submit', class: 'primary' }, t('settings.saveRoute'))));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const list = targets.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
      mutate('mutation($a: String!, $t: [String!]!) { setModelRoute(alias: $a, targets: $t) { alias } }', { a: alias.value.trim(), t: list }, load);
    });
    routes.append(form);
  }

  function drawTenants(list) {
    const limitInputs = Object.fromEntries(LIMIT_FIELDS.map(([name]) => [name, h('input', { name, inputmode: name.endsWith('Budget') ? 'decimal' : 'numeric' })]));
    let limitsOf = null;
    const limitsTitle = h('h3', { id: 'limits-form-title' }, t('settings.limitsForm'));
    const limitsForm = h('form', { class: 'panel', id: 'limits-form', hidden: true, 'aria-labelledby': 'limits-form-title' },
      limitsTitle, h('p', { class: 'muted' }, t('settings.limitsNote')),
      h('div', { class: 'filters' }, LIMIT_FIELDS.map(([name, key]) => field(t(key), limitInputs[name])),
        h('button', { type: 'submit', class: 'primary' }, t('settings.saveLimits'))));
    limitsForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const limits = {};
      for (const [name] of LIMIT_FIELDS) {
        const text = limitInputs[name].value.trim();
        limits[name] = text === '' ? null : (name.endsWith('Budget') ? text : Number(text));
      }
      mutate(`mutation($id: ID!, $l: TenantLimitsInput!) { setTenantLimits(id: $id, limits: $l) { id } }`, { id: limitsOf.id, l: limits }, load);
    });
    const editLimits = (x) => {
      limitsOf = x;
      limitsTitle.textContent = t('settings.limitsOf', { name: x.name });
      for (const [name] of LIMIT_FIELDS) limitInputs[name].value = x.limits[name] ?? '';
      limitsForm.hidden = false;
      limitInputs.requestsPerMinute.focus();
    };
    const rows = list.map((x) => h('tr', { 'data-tenant': x.id }, h('td', null, x.name), h('td', { class: 'mono' }, `${x.keyPrefix}…`),
      h('td', null, yesNo(x.active)), h('td', null, limitsText(x.limits)), h('td', null, utc(x.createdAt)), h('td', null, h('div', { class: 'row' },
        h('button', { type: 'button', onclick: () => editLimits(x), 'aria-label': t('settings.editLimits', { name: x.name }) }, t('settings.limits')),
        confirmButton(t('settings.rotate'), t('settings.rotateKey', { name: x.name }), async () => {
          const data = await mutate(`mutation($id: ID!) { rotateTenantKey(id: $id) { tenant { ${TENANT} } apiKey } }`, { id: x.id });
          if (data) { await load(); showKey(data.rotateTenantKey); }
        }),
        h('button', { type: 'button', onclick: () => mutate(`mutation($id: ID!, $a: Boolean!) { setTenantActive(id: $id, active: $a) { id } }`, { id: x.id, a: !x.active }, load) },
          t(x.active ? 'settings.deactivate' : 'settings.activate'))))));
    const name = h('input', { name: 'name', required: true, maxlength: 200 });
    const form = h('form', { class: 'filters', id: 'tenant-form', 'aria-label': t('settings.createTenant') },
      field(t('settings.tenantName'), name), h('button', { type: 'submit', class: 'primary' }, t('settings.createTenant')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const data = await mutate(`mutation($n: String!) { createTenant(name: $n) { tenant { ${TENANT} } apiKey } }`, { n: name.value.trim() });
      if (data) {
        name.value = '';
        await load();
        showKey(data.createTenant);
      }
    });
    fill(tenants, h('h2', { id: 'tenants-title' }, t('settings.tenants')), form, keyBox,
      table('tenants-table', [t('settings.tenantName'), t('settings.keyPrefix'), t('settings.active'), t('settings.limits'), t('settings.createdUTC'), t('settings.actions')], rows),
      limitsForm);
  }

  load();
}

/** A button that asks once more in place ("Delete" → "Delete price X?") before it acts. */
function confirmButton(text, question, action) {
  const button = h('button', { type: 'button', class: 'danger' }, text);
  let armed = false;
  button.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      button.textContent = question;
      setTimeout(() => { armed = false; button.textContent = text; }, 5000);
      return;
    }
    armed = false;
    button.textContent = text;
    action();
  });
  return button;
}
