// Money and time as the API gives them: decimals are strings added as scaled BigInts (never floats), and every
// time is shown in UTC, labelled so.
import { t } from './i18n.js';

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function scaleOf(text) {
  const m = DECIMAL.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  return (m[3] || '').length;
}

function scaled(text, scale) {
  const [, sign, whole, frac = ''] = DECIMAL.exec(text);
  const value = BigInt(whole + frac.padEnd(scale, '0'));
  return sign ? -value : value;
}

function unscaled(value, scale) {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return (negative ? '-' : '') + text;
}

/** The exact sum of decimal strings, with as many fractional digits as the longest of them. */
export function sumDecimals(values) {
  const scale = Math.max(0, ...values.map(scaleOf));
  return unscaled(values.reduce((total, v) => total + scaled(v, scale), 0n), scale);
}

/** Compares two decimal strings exactly: negative, zero or positive. */
export function compareDecimals(a, b) {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  const d = scaled(a, scale) - scaled(b, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** part / whole as a percentage with one decimal ("12.5"), computed on integers. */
export function share(part, whole) {
  const scale = Math.max(scaleOf(part), scaleOf(whole));
  const w = scaled(whole, scale);
  if (w === 0n) return '0.0';
  const tenths = (scaled(part, scale) * 2000n + w) / (2n * w);
  return `${tenths / 10n}.${tenths % 10n}`;
}

/** A ratio in 0…1 for drawing only (bar heights); never used for a figure that is shown. */
export function ratio(part, whole) {
  const scale = Math.max(scaleOf(part), scaleOf(whole));
  const w = scaled(whole, scale);
  return w === 0n ? 0 : Number((scaled(part, scale) * 100000n) / w) / 100000;
}

export const money = (amount) => `${amount} USD`;

/** "2026-12-01 10:04:05 UTC" from an RFC 3339 time. */
export function utc(time) {
  if (!time) return '—';
  const d = new Date(time);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Seconds between two RFC 3339 times, with milliseconds. */
export function duration(from, to) {
  if (!from || !to) return '—';
  return t('unit.seconds', { n: ((new Date(to) - new Date(from)) / 1000).toFixed(3) });
}

/** A UTC day (YYYY-MM-DD) moved by n days. */
export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export const today = () => new Date().toISOString().slice(0, 10);
