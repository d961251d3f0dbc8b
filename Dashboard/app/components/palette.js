// The command palette (Ctrl+K / ⌘K): a modal dialog with a combobox filtering a listbox of commands.
// Arrows move, Enter runs, Esc closes; focus returns to where it was.
import { h, fill } from '../dom.js';
import { t } from '../i18n.js';

let dialog = null;

/** Opens the palette over commands() — [{label, run, keywords}] — evaluated each time it opens; dynamic(text)
 * adds commands made from what was typed (e.g. open the job with this id). */
export function openPalette(commands, dynamic) {
  if (dialog?.open) return;
  const returnTo = document.activeElement;
  const all = commands();
  let shown = all;
  let active = 0;
  const input = h('input', {
    type: 'text', role: 'combobox', 'aria-expanded': 'true', 'aria-controls': 'palette-list', 'aria-autocomplete': 'list',
    'aria-label': t('palette.label'), placeholder: t('palette.placeholder'), autocomplete: 'off',
  });
  const list = h('ul', { id: 'palette-list', role: 'listbox', 'aria-label': t('palette.commands') });
  const status = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });

  const draw = () => {
    fill(list, shown.map((command, k) => h('li', {
      id: `palette-${k}`, role: 'option', 'aria-selected': String(k === active),
      onclick: () => run(command), onmousemove: () => { if (active !== k) { active = k; draw(); } },
    }, command.label)));
    input.setAttribute('aria-activedescendant', shown.length ? `palette-${active}` : '');
    status.textContent = t('palette.count', { n: shown.length });
    list.children[active]?.scrollIntoView({ block: 'nearest' });
  };
  const run = (command) => {
    dialog.close();
    command.run();
  };
  input.addEventListener('input', () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = all.filter((c) => words.every((w) => c.label.toLowerCase().includes(w) || c.keywords?.includes(w)));
    if (input.value.trim()) shown = [...shown, ...dynamic(input.value.trim())];
    active = 0;
    draw();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (shown.length) active = (active + (event.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      draw();
    } else if (event.key === 'Enter' && shown[active]) {
      event.preventDefault();
      run(shown[active]);
    }
  });

  dialog?.remove();
  dialog = h('dialog', { class: 'palette', 'aria-label': t('palette.label') }, input, list, status);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (returnTo?.isConnected && !document.activeElement?.closest('main')) returnTo.focus();
  });
  document.body.append(dialog);
  draw();
  dialog.showModal();
  input.focus();
}
