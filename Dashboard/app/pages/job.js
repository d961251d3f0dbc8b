// One job: input, result (Markdown), error, attempts, tokens, cost and timings, followed live over jobUpdated(id)
// (which first sends the job as it is now), with Cancel while it has not ended. While it runs, its answer is shown
// as it is generated (GET /stream/jobs/{id}).
import { h, fill } from '../dom.js';
import { t, int } from '../i18n.js';
import { gql } from '../api.js';
import { live } from '../live.js';
import { markdown } from '../md.js';
import { utc, duration, money } from '../format.js';
import { toast, toastError } from '../components/toast.js';
import { session } from '../session.js';
import { events } from '../sse.js';
import { statusBadge, JOB_FIELDS } from './jobs.js';
import { copyText } from '../components/clipboard.js';

const ACTIVE = ['PENDING', 'PROCESSING'];

export function render(main, ctx) {
  ctx.setTitle(t('job.title'));
  const view = h('div');
  let current = null;
  let partial = '';
  let following = null;
  let frame = 0;
  main.append(h('p', null, h('a', { href: '/jobs' }, t('job.back'))), h('h1', null, t('job.title'), ' ', h('span', { class: 'mono' }, ctx.id)), view);

  // The answer so far of a running job, read from its token stream; the finished job's own result replaces it.
  const follow = () => {
    if (following) return;
    following = new AbortController();
    fetch(`/stream/jobs/${encodeURIComponent(ctx.id)}`, { headers: { authorization: `Bearer ${session.key}` }, signal: following.signal })
      .then(async (res) => {
        if (!res.ok) return;
        for await (const { event, data } of events(res)) {
          if (event !== 'token') continue;
          partial += JSON.parse(data).text;
          if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(current); });
        }
      })
      .catch(() => { /* ended by leaving the page, or the job's end: jobUpdated tells the rest */ });
  };

  const draw = (job) => {
    current = job;
    if (job && ACTIVE.includes(job.status)) follow();
    if (!job) {
      fill(view, h('p', { class: 'notice' }, t('job.missing')));
      return;
    }
    const cancel = ACTIVE.includes(job.status)
      ? h('button', { type: 'button', class: 'danger', onclick: async (e) => {
        e.target.disabled = true;
        try {
          const { cancelJob } = await gql(`mutation($id: ID!) { cancelJob(id: $id) { ${JOB_FIELDS} } }`, { id: job.id });
          toast(t('job.cancelled'));
          draw(cancelJob);
        } catch (err) {
          toastError(err);
          e.target.disabled = false;
        }
      } }, t('job.cancel'))
      : null;
    const pairs = [
      [t('jobs.status'), h('span', { id: 'job-status' }, statusBadge(job.status))],
      [t('jobs.type'), job.type],
      [t('jobs.model'), job.model || '—'],
      [t('jobs.provider'), job.provider || '—'],
      [t('job.attempts'), h('span', { id: 'job-attempts' }, int(job.attempts))],
      [t('jobs.tokensIn'), int(job.tokensIn)],
      [t('jobs.tokensOut'), int(job.tokensOut)],
      [t('jobs.cost'), h('span', { id: 'job-cost' }, money(job.cost))],
      [t('jobs.created'), utc(job.createdAt)],
      [t('job.started'), utc(job.startedAt)],
      [t('job.finished'), utc(job.finishedAt)],
      [t('job.duration'), duration(job.startedAt, job.finishedAt)],
    ];
    if (ctx.admin) pairs.push([t('jobs.tenant'), h('span', { class: 'mono' }, job.tenantId)]);
    fill(view,
      h('div', { class: 'row' }, cancel),
      h('div', { class: 'panel' }, h('dl', { class: 'fields' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
      h('h2', null, t('job.input')), h('div', { class: 'text-block', id: 'job-input' }, job.input),
      job.result != null ? [h('h2', null, t('job.result')), h('div', { class: 'panel', id: 'job-result' }, markdown(job.result, copyText))]
        : ACTIVE.includes(job.status) && partial ? [h('h2', null, t('job.resultSoFar')), h('div', { class: 'panel', id: 'job-result' }, markdown(partial, copyText))]
          : null,
      job.error ? [h('h2', null, t('job.error')), h('p', { class: 'error', id: 'job-error' }, job.error)] : null);
  };

  // The subscription sends the job as it is now, then each change; the query covers a socket not yet open and
  // an unknown id, and is dropped if the subscription has already answered with something newer.
  let followed = false;
  gql(`query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id: ctx.id }).then(({ job }) => { if (!followed || !job) draw(job); }, toastError);
  const unsubscribe = live.subscribe(`subscription($id: ID) { jobUpdated(id: $id) { ${JOB_FIELDS} } }`, { id: ctx.id }, (data) => {
    if (!data?.jobUpdated) return;
    followed = true;
    draw(data.jobUpdated);
  });
  return () => {
    unsubscribe();
    following?.abort();
    cancelAnimationFrame(frame);
  };
}
