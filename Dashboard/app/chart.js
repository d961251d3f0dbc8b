// Cost per day as stacked SVG bars, one colour per series. Heights are drawn from exact ratios of the
// decimal strings; the figures themselves are in the table beside the chart.
import { svg } from './dom.js';
import { ratio, sumDecimals, compareDecimals } from './format.js';

/** days: ['YYYY-MM-DD'], series: [names], value(day, name) → decimal string. */
export function costChart(days, series, value, label) {
  const width = 720;
  const height = 220;
  const left = 8;
  const bottom = 22;
  const totals = days.map((d) => sumDecimals(series.map((s) => value(d, s))));
  const max = totals.reduce((m, v) => (compareDecimals(v, m) > 0 ? v : m), '0');
  const step = (width - left) / Math.max(days.length, 1);
  const bar = Math.max(step * 0.7, 1);
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  chart.append(svg('line', { class: 'axis', x1: left, x2: width, y1: height - bottom, y2: height - bottom }));
  const labelEvery = Math.ceil(days.length / 8);
  days.forEach((day, k) => {
    const x = left + k * step + (step - bar) / 2;
    let y = height - bottom;
    series.forEach((name, s) => {
      const h = ratio(value(day, name), max) * (height - bottom - 8);
      if (h <= 0) return;
      y -= h;
      chart.append(svg('rect', { class: `s${Math.min(s, 5)}`, x, y, width: bar, height: h },
        svg('title', null, `${day} · ${name}: ${value(day, name)} USD`)));
    });
    if (k % labelEvery === 0) chart.append(svg('text', { x: x + bar / 2, y: height - 6, 'text-anchor': 'middle' }, day.slice(5)));
  });
  return chart;
}
