// Usage and cost over a range of UTC days: totals, cost per day (chart and the same figures as a table),
// tables by provider, model and (admin) tenant with CSV export, refreshed live from usageRecorded.
// Every total is the exact sum of the rows it stands under (decimal strings added as integers).
import { h, fill, field } from '../dom.js';
import { t, int } from '../i18n.js';
import { gql } from '../api.js';
import { live } from '../live.js';
import { sumDecimals, share, compareDecimals, money, addDays, today } from '../format.js';
import { costChart } from '../chart.js';
import { toCSV, download } from '../csv.js';
import { toastError } from '../components/toast.js';

const PRESETS = ['today', '7d', '30d', 'month', 'lastmonth', 'custom'];
const SUMS = 'requests tokensIn tokensOut cacheReadTokens cacheWriteTokens cost';
const COUNTS = ['requests', 'tokensIn', 'tokensOut', 'cacheReadTokens', 'cacheWriteTokens'];
const TOP_SERIES = 5;

/** The UTC days [from, to] (inclusive) of a preset or the URL's custom range. */
export function range(params) {
  const now = today();
  const preset = PRESETS.includes(params.get('preset')) ? params.get('preset') : (params.get('from') ? 'custom' : '7d');
  const month = now.slice(0, 8);
  switch (preset) {
    case 'today': return { preset, from: now, to: now };
    case '30d': return { preset, from: addDays(now, -29), to: now };
    case 'month': return { preset, from: `${month}01`, to: now };
    case 'lastmonth': {
      const last = addDays(`${month}01`, -1);
      return { preset, from: `${last.slice(0, 8)}01`, to: last };
    }
    case 'custom': {
      const valid = (d) => /^\d{4}-\d{2}-\d{2}$/.test(d || '');
      const from = valid(params.get('from')) ? params.get('from') : addDays(now, -6);
      const to = valid(params.get('to')) && params.get('to') >= from ? params.get('to') : now;
      return { preset, from, to };
    }
    default: return { preset: '7d', from: addDays(now, -6), to: now };
  }
}

function days(from, to) {
  const list = [];
  for (let d = from; d <= to && list.length < 400; d = addDays(d, 1)) list.push(d);
  return list;
}

/** Rows summed by the given fields (exactly: counts as integers, costs as decimal strings). */
function group(rows, fields) {
  const groups = new Map();
  for (const row of rows) {
    const key = JSON.stringify(fields.map((f) => row[f]));
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  return [...groups.values()].map((members) => ({ ...Object.fromEntries(fields.map((f) => [f, members[0][f]])), ...totalsOf(members) }));
}

const totalsOf = (rows) => {
  const total = { cost: sumDecimals(rows.map((r) => r.cost).concat('0')) };
  for (const name of COUNTS) total[name] = rows.reduce((n, r) => n + r[name], 0);
  return total;
};

export function render(main, ctx) {
  ctx.setTitle(t('nav.usage'));
  const r = range(ctx.params);
  const by = ctx.params.get('by') === 'model' ? 'model' : 'provider';
  const apiRange = { from: `${r.from}T00:00:00Z`, to: `${addDays(r.to, 1)}T00:00:00Z` };
  const url = (changes) => {
    const p = new URLSearchParams({ preset: r.preset, by });
    if (r.preset === 'custom') { p.set('from', r.from); p.set('to', r.to); }
    for (const [k, v] of Object.entries(changes)) p.set(k, v);
    if (p.get('preset') !== 'custom') { p.delete('from'); p.delete('to'); }
    return `/usage?${p}`;
  };

  const presets = h('div', { class: 'row', role: 'group', 'aria-label': t('usage.presets') },
    PRESETS.filter((p) => p !== 'custom').map((p) => h('a', { class: `button${p === r.preset ? ' primary' : ''}`, href: url({ preset: p }), 'aria-current': p === r.preset ? 'true' : null }, t(`usage.preset.${p}`))));
  const fromInput = h('input', { type: 'date', name: 'from', value: r.from });
  const toInput = h('input', { type: 'date', name: 'to', value: r.to });
  const custom = h('form', { class: 'filters', 'aria-label': t('usage.custom') },
    field(t('usage.fromUTC'), fromInput), field(t('usage.toUTC'), toInput), h('button', { type: 'submit' }, t('filter.apply')));
  custom.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate(url({ preset: 'custom', from: fromInput.value, to: toInput.value }));
  });

  const content = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('loading')));
  main.append(h('h1', null, t('nav.usage')), presets, custom,
    h('p', { class: 'muted', id: 'usage-range' }, t('usage.range', { from: r.from, to: r.to })), content);

  const jobsLink = (extra) => `/jobs?${new URLSearchParams({ ...extra, from: apiRange.from, to: apiRange.to })}`;

  // One pass over the usage rows (grouped by day, provider and model, a few hundred rows at most) feeds the chart
  // and the provider and model tables; the admin's tenant table is a second grouping.
  async function load() {
    const query = `query Usage($from: DateTime, $to: DateTime, $failed: JobFilter, $all: JobFilter) {
      rows: usageSummary(from: $from, to: $to, groupBy: [DAY, PROVIDER, MODEL]) { day provider model ${SUMS} }
      failed: jobs(filter: $failed, first: 0) { totalCount }
      all: jobs(filter: $all, first: 0) { totalCount }
      ${ctx.admin ? `byTenant: usageSummary(from: $from, to: $to, groupBy: [TENANT]) { tenantId ${SUMS} } tenants { id name }` : ''}
    }`;
    try {
      const data = await gql(query, { ...apiRange, failed: { status: 'FAILED', ...apiRange }, all: apiRange });
      draw({ ...data, byProvider: group(data.rows, ['provider']), byModel: group(data.rows, ['provider', 'model']) });
    } catch (e) {
      toastError(e);
    }
  }

  function draw(data) {
    const total = totalsOf(data.byProvider);
    const tile = (label, value, id) => h('div', { class: 'tile' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value));
    const errorRate = data.all.totalCount ? share(String(data.failed.totalCount), String(data.all.totalCount)) : '0.0';
    const tiles = h('div', { class: 'grid', id: 'usage-totals' },
      tile(t('usage.requests'), int(total.requests), 'total-requests'),
      tile(t('usage.tokensIn'), int(total.tokensIn), 'total-tokens-in'),
      tile(t('usage.tokensOut'), int(total.tokensOut), 'total-tokens-out'),
      tile(t('usage.cached'), `${int(total.cacheReadTokens)} / ${int(total.cacheWriteTokens)}`, 'total-cached'),
      tile(t('usage.cost'), money(total.cost), 'total-cost'),
      tile(t('usage.failed'), t('usage.failedValue', { n: int(data.failed.totalCount), rate: errorRate }), 'total-failed'));

    // Chart series: the dearest few, the rest as "other", so the bars still add up to the total.
    const key = (row) => (by === 'model' ? `${row.provider}/${row.model ?? '—'}` : row.provider);
    const perSeries = new Map();
    for (const row of data.rows) perSeries.set(key(row), [...(perSeries.get(key(row)) || []), row.cost]);
    const ranked = [...perSeries.entries()].map(([name, costs]) => [name, sumDecimals(costs)])
      .sort((a, b) => compareDecimals(b[1], a[1]));
    let shown = ranked.map(([name]) => name);
    const other = t('usage.other');
    if (shown.length > TOP_SERIES + 1) shown = [...shown.slice(0, TOP_SERIES), other];
    const cell = new Map();
    for (const row of data.rows) {
      const name = shown.includes(key(row)) ? key(row) : other;
      const k = `${row.day}|${name}`;
      cell.set(k, sumDecimals([cell.get(k) || '0', row.cost]));
    }
    const value = (day, name) => cell.get(`${day}|${name}`) || '0';
    const dayList = days(r.from, r.to);
    const byToggle = h('div', { class: 'row', role: 'group', 'aria-label': t('usage.seriesBy') },
      ['provider', 'model'].map((b) => h('a', { class: `button${b === by ? ' primary' : ''}`, href: url({ by: b }), 'aria-current': b === by ? 'true' : null }, t(`usage.by.${b}`))));
    const dayColumns = [{ title: t('usage.dayUTC') }, ...shown.map((s) => ({ title: s, numeric: true })), { title: t('usage.costUSD'), numeric: true }];
    const dayRows = dayList.map((d) => [d, ...shown.map((s) => value(d, s)), sumDecimals(shown.map((s) => value(d, s)).concat('0'))]);
    const dayFoot = [t('usage.total'), ...shown.map((s) => sumDecimals(dayList.map((d) => value(d, s)).concat('0'))), sumDecimals(dayRows.map((row) => row.at(-1)).concat('0'))];

    const sumColumns = (first) => [...first, { title: t('usage.requests'), numeric: true }, { title: t('usage.tokensIn'), numeric: true },
      { title: t('usage.tokensOut'), numeric: true }, { title: t('usage.cacheRead'), numeric: true }, { title: t('usage.cacheWrite'), numeric: true },
      { title: t('usage.costUSD'), numeric: true }, { title: t('usage.share'), numeric: true }];
    const sums = (row) => [row.requests, row.tokensIn, row.tokensOut, row.cacheReadTokens, row.cacheWriteTokens, row.cost, `${share(row.cost, total.cost)} %`];
    const foot = (labels) => [...labels, total.requests, total.tokensIn, total.tokensOut, total.cacheReadTokens, total.cacheWriteTokens, total.cost, '100.0 %'];
    const sortByCost = (rows) => [...rows].sort((a, b) => compareDecimals(b.cost, a.cost));

    const tenantName = new Map((data.tenants || []).map((x) => [x.id, x.name]));
    const sections = [
      section('by-day', t('usage.perDay'), dayColumns, dayRows, dayFoot, null, [byToggle, legend(shown), costChart(dayList, shown, value, t('usage.chartLabel'))]),
      section('by-provider', t('usage.byProvider'), sumColumns([{ title: t('jobs.provider') }]),
        sortByCost(data.byProvider).map((row) => [row.provider, ...sums(row)]), foot([t('usage.total')]),
        (row) => jobsLink({ provider: row[0] })),
      section('by-model', t('usage.byModel'), sumColumns([{ title: t('jobs.provider') }, { title: t('jobs.model') }]),
        sortByCost(data.byModel).map((row) => [row.provider, row.model ?? '—', ...sums(row)]), foot([t('usage.total'), '']),
        (row) => jobsLink(row[1] === '—' ? { provider: row[0] } : { provider: row[0], model: row[1] })),
    ];
    if (ctx.admin) {
      const rows = sortByCost(data.byTenant);
      sections.push(section('by-tenant', t('usage.byTenant'), sumColumns([{ title: t('jobs.tenant') }]),
        rows.map((row) => [tenantName.get(row.tenantId) || row.tenantId, ...sums(row)]), foot([t('usage.total')]),
        (_, k) => jobsLink({ tenantId: rows[k].tenantId })));
    }
    content.removeAttribute('aria-busy');
    fill(content, tiles, sections);
  }

  /** A table with its total row and a CSV button; link(row, index) makes the first cell open the matching jobs. */
  function section(id, title, columns, rows, footer, link, above = []) {
    const csv = h('button', { type: 'button', 'data-csv': id }, t('usage.csv'));
    csv.addEventListener('click', () => download(`usage-${id}_${r.from}_${r.to}_UTC.csv`, toCSV(columns, rows)));
    const cellOf = (value, k, numeric) => h('td', { class: numeric ? 'num' : null }, typeof value === 'number' ? int(value) : value);
    return h('section', { id, 'aria-labelledby': `${id}-title` },
      h('div', { class: 'row' }, h('h2', { id: `${id}-title` }, title), csv),
      above,
      h('div', { class: 'table-wrap' }, h('table', null,
        h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.title)))),
        h('tbody', null, rows.length
          ? rows.map((row, k) => h('tr', null, row.map((v, c) => (c === 0 && link
            ? h('td', null, h('a', { href: link(row, k) }, v))
            : cellOf(v, c, columns[c].numeric)))))
          : h('tr', null, h('td', { colspan: columns.length, class: 'muted' }, t('usage.none')))),
        h('tfoot', null, h('tr', null, footer.map((v, c) => cellOf(v, c, columns[c].numeric)))))));
  }

  function legend(names) {
    return h('div', { class: 'legend', 'aria-hidden': 'true' }, names.map((name, k) => h('span', null, h('span', { class: `swatch s${Math.min(k, 5)}` }), name)));
  }

  load();
  let timer = 0;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(load, 500);
  };
  // New usage only lands in a range that reaches today.
  const unsubscribe = r.to >= today() ? live.subscribe('subscription { usageRecorded { id } }', {}, refresh) : () => {};
  live.addEventListener('recovered', load);
  return () => {
    clearTimeout(timer);
    unsubscribe();
    live.removeEventListener('recovered', load);
  };
}
