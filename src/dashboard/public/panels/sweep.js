import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { durationBetween, formatCount, formatDuration, shortId } from '../lib/format.js';
import { useNow } from '../lib/hooks.js';
import { isFinished, sweepFraction } from '../lib/sweep-view.js';
import { Notice, Panel, SessionStatus, Time } from '../lib/ui.js';

const MODES = { full: 'Full', incremental: 'Incremental' };
const TRIGGERS = { admin: 'started by an admin', schedule: 'scheduled', startup: 'at start-up' };
const PHASES = {
  live: 'reading live contacts',
  archived: 'reading archived contacts',
  missing: 'checking for contacts HubSpot no longer has',
  tie: 'reading recent changes',
  after: 'reading recent changes',
  done: 'finishing',
};
const COUNTS = [
  ['seen', 'Seen'],
  ['created', 'Created'],
  ['updated', 'Updated'],
  ['archived', 'Archived'],
  ['unchanged', 'Unchanged'],
  ['drift', 'Drift'],
  ['errors', 'Errors'],
];

function conflictMessage(error) {
  const running = error.body?.session;
  if (!running) return 'A sweep is already running. Wait for it to finish, then try again.';
  // htm drops whitespace that holds a line break, so the space before the time is spelled out.
  const mode = MODES[running.mode]?.toLowerCase() ?? '';
  return html`A ${mode} sweep is already running (session <code>${running.sessionId}</code>, started${' '}
    <${Time} iso=${running.startTime} />). Wait for it to finish, then try again.`;
}

function startFailure(error) {
  if (error.status === 409) return { tone: 'warn', text: conflictMessage(error) };
  if (error.status === 503) return { tone: 'bad', text: `HubSpot is not connected: ${error.message}` };
  if (error.status === 403) return { tone: 'bad', text: 'Only the admin token can start a sweep.' };
  return { tone: 'bad', text: `The sweep did not start: ${error.message}` };
}

function SweepButtons({ api, onStarted, sweepState }) {
  const [pending, setPending] = useState(null);
  const [notice, setNotice] = useState(null);
  // "Started" and "already running" describe the sweep of that moment: once it moves on, they are stale.
  useEffect(() => setNotice(null), [sweepState]);

  async function start(mode) {
    setPending(mode);
    setNotice(null);
    try {
      const started = await api.post('/api/contacts/sync', { mode });
      setNotice({ tone: 'ok', text: `${MODES[mode]} sweep started (session ${started.sessionId}).` });
      onStarted();
    } catch (error) {
      setNotice(startFailure(error));
    } finally {
      setPending(null);
    }
  }

  return html`<div class="sweep-actions">
    <button type="button" class="primary" disabled=${pending !== null} onClick=${() => start('full')}>
      ${pending === 'full' ? 'Starting…' : 'Full sweep'}
    </button>
    <button type="button" disabled=${pending !== null} onClick=${() => start('incremental')}>
      ${pending === 'incremental' ? 'Starting…' : 'Incremental sweep'}
    </button>
  </div>
  ${notice ? html`<${Notice} tone=${notice.tone}>${notice.text}<//>` : null}`;
}

function SweepProgress({ sweep }) {
  const fraction = sweepFraction(sweep);
  const percent = fraction === null ? null : Math.floor(fraction * 100);
  const seen = sweep.counts?.seen ?? 0;
  const running = !isFinished(sweep);
  const detail = [
    sweep.total && seen <= sweep.total
      ? `${formatCount(seen)} of ${formatCount(sweep.total)}`
      : `${formatCount(seen)} read`,
    running && sweep.ratePerSecond ? `${formatCount(sweep.ratePerSecond)}/s` : null,
    running && typeof sweep.etaSeconds === 'number'
      ? `about ${formatDuration(sweep.etaSeconds * 1000)} left`
      : null,
  ].filter(Boolean);
  return html`<div class="progress-row">
    ${
      // Preact leaves a removed `value` in place, and only a <progress> without one is indeterminate.
      percent === null
        ? html`<progress key="indeterminate" aria-labelledby="sweep-progress-label"></progress>`
        : html`<progress key="determinate" max="100" value=${percent} aria-labelledby="sweep-progress-label"></progress>`
    }
    <p class="progress-text">
      <span id="sweep-progress-label" class="visually-hidden">Sweep progress</span>
      <strong class="num">${percent === null ? (running ? 'Working…' : '—') : `${percent}%`}</strong>
      <span class="muted"> ${detail.join(' · ')}</span>
    </p>
  </div>`;
}

function SweepSummary({ sweep }) {
  const running = !isFinished(sweep);
  const now = useNow(1000, running);
  const elapsed = durationBetween(sweep.startTime, sweep.endTime, now);
  return html`
    <p class="sweep-meta">
      <strong>${MODES[sweep.mode] ?? 'A'} sweep</strong>
      <span class="muted">
        ${TRIGGERS[sweep.trigger] ? ` · ${TRIGGERS[sweep.trigger]}` : ''}
        ${sweep.startTime ? html` · started <${Time} iso=${sweep.startTime} />` : ''}
        ${elapsed !== undefined ? ` · ${running ? 'running for' : 'took'} ${formatDuration(elapsed)}` : ''}
        ${running && PHASES[sweep.phase] ? ` · ${PHASES[sweep.phase]}` : ''}
      </span>
      <span class="muted"> · session <code class="nowrap">${sweep.sessionId ?? shortId(sweep.id)}</code></span>
    </p>
    <${SweepProgress} sweep=${sweep} />
    <dl class="counts">
      ${COUNTS.map(
        ([
          key,
          label,
        ]) => html`<div key=${key} data-attention=${(key === 'drift' || key === 'errors') && sweep.counts?.[key] > 0}>
          <dt>${label}</dt>
          <dd class="num">${formatCount(sweep.counts?.[key] ?? 0)}</dd>
        </div>`,
      )}
    </dl>
    ${sweep.error ? html`<${Notice} tone="bad">The sweep failed: ${sweep.error}<//>` : null}`;
}

/** The running sweep (or the last one), live from the socket, and the buttons that start one. */
export function SweepPanel({ api, sweep, isAdmin, onStarted }) {
  return html`<${Panel}
    id="sweep"
    className="span-8"
    title=${html`${sweep && !isFinished(sweep) ? 'Running sweep' : 'Last sweep'} ${sweep ? html`<${SessionStatus} status=${sweep.status} />` : null}`}
  >
    ${sweep ? html`<${SweepSummary} sweep=${sweep} />` : html`<p class="empty">No sweep has run yet.</p>`}
    ${isAdmin ? html`<${SweepButtons} api=${api} onStarted=${onStarted} sweepState=${sweep && isFinished(sweep) ? sweep.sessionId : null} />` : null}
  <//>`;
}
