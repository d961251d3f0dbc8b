// Chat: a streamed answer from POST /stream, shown as it arrives, with Stop; its tokens, cost and job.
// The conversation is kept for the browser session; the model (a route alias or provider/model) is in the URL.
import { h, fill, field } from '../dom.js';
import { t, int } from '../i18n.js';
import { gql, errorText } from '../api.js';
import { session } from '../session.js';
import { events } from '../sse.js';
import { markdown } from '../md.js';
import { money } from '../format.js';
import { toastError } from '../components/toast.js';
import { copyText } from '../components/clipboard.js';

const STORE = 'agg.chat';

function loadConversation() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE)) || [];
  } catch {
    return [];
  }
}

export function render(main, ctx) {
  ctx.setTitle(t('nav.chat'));
  let conversation = loadConversation();
  let controller = null;
  const save = () => sessionStorage.setItem(STORE, JSON.stringify(conversation));

  const modelSelect = h('select', { id: 'chat-model' });
  const messages = h('div', { class: 'messages', role: 'log', 'aria-label': t('chat.conversation') });
  // The admin key makes no generations (SPEC §4): its page says so instead of offering a box that would fail.
  const input = h('textarea', { id: 'chat-input', rows: 3, placeholder: t('chat.placeholder'), disabled: ctx.admin });
  const send = h('button', { type: 'submit', class: 'primary', disabled: ctx.admin }, t('chat.send'));
  const stop = h('button', { type: 'button', disabled: true, onclick: () => controller?.abort() }, t('chat.stop'));
  const clear = h('button', { type: 'button', onclick: () => { conversation = []; save(); draw(); } }, t('chat.new'));
  const form = h('form', { class: 'composer' }, h('label', { for: 'chat-input', class: 'visually-hidden' }, t('chat.message')), input, send, stop);

  const meta = (m) => {
    const parts = [];
    if (m.usage) {
      parts.push(h('span', { class: 'tokens' }, t('chat.tokens', { in: int(m.usage.tokensIn), out: int(m.usage.tokensOut) })));
      parts.push(h('span', { class: 'cost' }, t('chat.cost', { cost: money(m.usage.cost) })));
    }
    if (m.jobId) parts.push(h('a', { class: 'job-link', href: `/jobs/${m.jobId}` }, t('chat.job')));
    if (m.stopped) parts.push(h('span', null, t('chat.stopped')));
    if (m.error) parts.push(h('span', { class: 'error', role: 'alert' }, m.error));
    return parts.length ? h('div', { class: 'meta' }, parts) : null;
  };
  const messageView = (m) => (m.role === 'user'
    ? h('div', { class: 'message user' }, h('span', { class: 'visually-hidden' }, `${t('chat.you')}: `), m.content)
    : h('div', { class: 'message assistant' }, markdown(m.content, copyText), meta(m)));
  const draw = () => fill(messages, conversation.map(messageView));

  async function ask() {
    const text = input.value;
    if (!text.trim() || controller) return;
    controller = new AbortController();
    send.disabled = true;
    // A message sent while the models are still loading waits for them.
    await ready;
    const model = modelSelect.value;
    if (!model) {
      controller = null;
      send.disabled = false;
      return;
    }
    conversation.push({ role: 'user', content: text });
    const answer = { role: 'assistant', content: '' };
    conversation.push(answer);
    input.value = '';
    draw();
    stop.disabled = false;
    let frame = 0;
    // The answer is drawn again at most once per frame, however fast its tokens come.
    const redraw = () => {
      frame = 0;
      messages.lastElementChild.replaceWith(messageView(answer));
    };
    const update = () => {
      if (!frame) frame = requestAnimationFrame(redraw);
    };
    try {
      const res = await fetch('/stream', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${session.key}` },
        body: JSON.stringify({ model, messages: conversation.slice(0, -1).map(({ role, content }) => ({ role, content })) }),
        signal: controller.signal,
      });
      if (!res.ok || !res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error(await errorText(res));
      for await (const { event, data } of events(res)) {
        const body = JSON.parse(data);
        if (event === 'token') answer.content += body.text;
        else if (event === 'usage') answer.usage = body;
        else if (event === 'done') answer.jobId = body.jobId;
        else if (event === 'error') throw new Error(body.message);
        update();
      }
    } catch (e) {
      if (e.name === 'AbortError') {
        answer.stopped = true;
      } else {
        answer.error = e.message;
        toastError(e);
      }
    } finally {
      cancelAnimationFrame(frame);
      controller = null;
      send.disabled = false;
      stop.disabled = true;
      save();
      redraw();
    }
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); ask(); });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); ask(); }
  });
  modelSelect.addEventListener('change', () => ctx.navigate(`/chat?model=${encodeURIComponent(modelSelect.value)}`, { replace: true }));

  const head = h('div', { class: 'row' }, h('h1', null, t('nav.chat')), field(t('chat.model'), modelSelect), clear);
  main.append(h('section', { class: 'chat' }, head,
    ctx.admin ? h('p', { class: 'notice' }, t('chat.adminNotice')) : null, messages, form));
  draw();
  input.focus();

  const ready = gql('{ models { id } routes { alias } }').then(({ models, routes }) => {
    const wanted = ctx.params.get('model');
    const aliases = routes.map((r) => r.alias);
    const ids = models.map((m) => m.id).filter((id) => !aliases.includes(id));
    const current = wanted || aliases[0] || ids[0];
    fill(modelSelect,
      aliases.length ? h('optgroup', { label: t('chat.routes') }, aliases.map((a) => h('option', { value: a, selected: a === current }, a))) : null,
      h('optgroup', { label: t('chat.models') }, ids.map((id) => h('option', { value: id, selected: id === current }, id))));
  }, toastError);

  return () => controller?.abort();
}
