// Toasts for results and errors, read out by screen readers (a polite live region; errors assertively).
import { h } from '../dom.js';

export function toast(message, kind = 'ok') {
  const region = document.getElementById('toasts');
  const item = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  region.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

export const toastError = (error) => toast(error?.message || String(error), 'error');
