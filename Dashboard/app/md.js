// A small, safe Markdown renderer: the text becomes DOM nodes built with textContent, so no HTML in it is ever
// parsed. Links keep only http, https and mailto targets; images are never loaded (their text is shown).
// Subset: paragraphs, # to ######, fenced code (with a copy button), `code`, **bold**, *italic*, - and 1. lists,
// > quotes, ---, tables, [text](url).
import { h } from './dom.js';
import { t } from './i18n.js';

/** The rendered Markdown of text, as a <div class="md">. `onCopy(text)` copies a code block. */
export function markdown(text, onCopy) {
  const root = h('div', { class: 'md' });
  renderBlocks(text.replace(/\r\n?/g, '\n').split('\n'), root, onCopy);
  return root;
}

/** The href a link may have, or null: only http, https and mailto, after the URL parser has normalised it. */
export function safeHref(raw) {
  try {
    const url = new URL(raw.trim(), location.origin);
    if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:') return url.href;
  } catch {
    // not a URL
  }
  return null;
}

const FENCE = /^\s{0,3}(```+|~~~+)\s*([\w+#.-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^\s{0,3}([-*+])\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

function renderBlocks(lines, parent, onCopy) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) { i += 1; continue; }
    if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const body = [];
      i += 1;
      // An unclosed fence (a stream still arriving) runs to the end.
      while (i < lines.length && !lines[i].trim().startsWith(fence)) body.push(lines[i++]);
      i += 1;
      parent.append(codeBlock(body.join('\n'), m[2], onCopy));
    } else if ((m = HEADING.exec(line))) {
      // Answers sit under the page's own headings: # is shown as a third-level heading.
      parent.append(h(`h${Math.min(m[1].length + 2, 6)}`, null, inline(m[2])));
      i += 1;
    } else if (RULE.test(line)) {
      parent.append(h('hr'));
      i += 1;
    } else if (QUOTE.test(line)) {
      const body = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) { body.push(m[1]); i += 1; }
      const quote = h('blockquote');
      renderBlocks(body, quote, onCopy);
      parent.append(quote);
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      const ordered = !BULLET.test(line);
      const pattern = ordered ? NUMBERED : BULLET;
      const list = h(ordered ? 'ol' : 'ul');
      if (ordered && NUMBERED.exec(line)[1] !== '1') list.setAttribute('start', NUMBERED.exec(line)[1]);
      while (i < lines.length && (m = pattern.exec(lines[i]))) {
        list.append(h('li', null, inline(m[2])));
        i += 1;
      }
      parent.append(list);
    } else if (line.includes('|') && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const head = cells(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim()) rows.push(cells(lines[i++]));
      parent.append(h('div', { class: 'table-wrap' }, h('table', null,
        h('thead', null, h('tr', null, head.map((c) => h('th', null, inline(c))))),
        h('tbody', null, rows.map((r) => h('tr', null, head.map((_, k) => h('td', null, inline(r[k] ?? '')))))))));
    } else {
      const body = [];
      while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) body.push(lines[i++].trim());
      if (!body.length) body.push(lines[i++].trim());
      const p = h('p');
      body.forEach((text, k) => {
        if (k) p.append(h('br'));
        p.append(...inline(text));
      });
      parent.append(p);
    }
  }
}

function startsBlock(line) {
  return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || BULLET.test(line) || NUMBERED.test(line);
}

function cells(line) {
  let text = line.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  return text.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

function codeBlock(text, lang, onCopy) {
  return h('div', { class: 'codeblock' },
    h('div', { class: 'head' },
      h('span', null, lang || t('chat.code')),
      h('button', { type: 'button', onclick: () => onCopy?.(text) }, t('chat.copy'))),
    h('pre', null, h('code', null, text)));
}

/** Inline spans of one line: returns an array of nodes. */
function inline(text) {
  const out = [];
  let plain = '';
  const flush = () => { if (plain) { out.push(document.createTextNode(plain)); plain = ''; } };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!|>~]/.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const ticks = /^`+/.exec(text.slice(i))[0];
      const end = text.indexOf(ticks, i + ticks.length);
      if (end > 0) {
        flush();
        out.push(h('code', null, text.slice(i + ticks.length, end).trim() || ' '));
        i = end + ticks.length;
        continue;
      }
    }
    if (c === '!' && text[i + 1] === '[') {
      // An image is never fetched: a remote image in a model's answer can carry data out. Its text stays.
      const link = linkAt(text, i + 1);
      if (link) {
        plain += `[${t('md.image')}: ${link.label}]`;
        i = link.end;
        continue;
      }
    }
    if (c === '[') {
      const link = linkAt(text, i);
      if (link) {
        flush();
        const href = safeHref(link.url);
        out.push(href
          ? h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, inline(link.label))
          : h('span', null, inline(link.label)));
        i = link.end;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const double = text[i + 1] === c;
      const mark = double ? c + c : c;
      const end = text.indexOf(mark, i + mark.length);
      const inner = end > 0 ? text.slice(i + mark.length, end) : '';
      const wordBoundary = c === '*' || (!/\w/.test(text[i - 1] || '') && !/\w/.test(text[end + mark.length] || ''));
      if (inner && !/^\s|\s$/.test(inner) && wordBoundary) {
        flush();
        out.push(h(double ? 'strong' : 'em', null, inline(inner)));
        i = end + mark.length;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
  return out;
}

/** [label](url) starting at text[start] === '[', with nested brackets in the label and parentheses in the URL. */
function linkAt(text, start) {
  let depth = 0;
  let close = -1;
  for (let k = start; k < text.length; k++) {
    if (text[k] === '\\') { k += 1; continue; }
    if (text[k] === '[') depth += 1;
    if (text[k] === ']' && --depth === 0) { close = k; break; }
  }
  if (close < 0 || text[close + 1] !== '(') return null;
  let parens = 0;
  for (let k = close + 1; k < text.length; k++) {
    if (text[k] === '(') parens += 1;
    if (text[k] === ')' && --parens === 0) {
      const target = text.slice(close + 2, k).trim().replace(/\s+"[^"]*"$/, '').replace(/^<(.*)>$/, '$1');
      return { label: text.slice(start + 1, close), url: target, end: k + 1 };
    }
  }
  return null;
}
