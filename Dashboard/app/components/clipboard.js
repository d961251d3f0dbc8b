// Copy buttons (code blocks, a new tenant's key): the text goes to the clipboard and a toast says so.
import { t } from '../i18n.js';
import { toast, toastError } from './toast.js';

export function copyText(text) {
  navigator.clipboard.writeText(text).then(() => toast(t('chat.copied')), toastError);
}
