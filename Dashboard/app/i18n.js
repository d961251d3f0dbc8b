// English and Russian strings (i18n/en.json and i18n/ru.json have the same keys). The language comes from a
// stored choice, else the browser's languages, else English.

export const languages = ['en', 'ru'];
let strings = {};
let current = 'en';

export function detect() {
  const stored = localStorage.getItem('agg.lang');
  if (languages.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = tag.toLowerCase().split('-')[0];
    if (languages.includes(base)) return base;
  }
  return 'en';
}

export async function load(lang) {
  const res = await fetch(`/i18n/${lang}.json`);
  strings = await res.json();
  current = lang;
  document.documentElement.lang = lang;
}

export function setLanguage(lang) {
  localStorage.setItem('agg.lang', lang);
  return load(lang);
}

export const language = () => current;

/** t('jobs.total', {n: 5}): the string for key with {name} placeholders filled. */
export function t(key, vars) {
  let text = strings[key] ?? key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? ''));
  return text;
}

/** A whole number in the language's grouping (exact for the counts the API returns). */
export function int(n) {
  return new Intl.NumberFormat(current).format(n);
}
