import { html } from 'htm/preact';
import { useCallback, useEffect } from 'preact/hooks';
import { durationBetween, formatCount, formatDuration } from '../lib/format.js';
import { usePagedList } from '../lib/hooks.js';
import { EmptyRow, LoadError, MoreButton, Panel, SessionStatus, Time } from '../lib/ui.js';

const PAGE_SIZE = 10;
const MODES = { full: 'Full', incremental: 'Incremental' };
const TRIGGERS = { admin: 'Admin', schedule: 'Schedule', startup: 'Start-up' };

/** The row as the socket last described it, when the socket knows more than the page did. */
function withLive(session, sweep) {
  if (!sweep || sweep.id !== session.id) return session;
  return {
    ...session,
    status: sweep.status,
    endTime: session.endTime ?? sweep.endTime,
    errorCount: sweep.counts?.errors ?? session.errorCount,
    progress: { ...session.progress, ...sweep.counts },
  };
}

function SessionRow({ session }) {
  const duration = durationBetween(session.startTime, session.endTime);
  const drift = session.progress?.drift ?? 0;
  return html`<tr>
    <td><${Time} iso=${session.startTime} /></td>
    <td>${MODES[session.mode] ?? session.mode}</td>
    <td class="optional">${TRIGGERS[session.trigger] ?? session.trigger}</td>
    <td><${SessionStatus} status=${session.status} /></td>
    <td class="num">${session.endTime ? formatDuration(duration) : html`<span class="muted">${formatDuration(duration)}</span>`}</td>
    <td class="num optional">${formatCount(session.progress?.seen)}</td>
    <td class="num" data-attention=${drift > 0}>${formatCount(drift)}</td>
    <td class="num optional" data-attention=${session.errorCount > 0}>${formatCount(session.errorCount)}</td>
  </tr>`;
}

/** Sweep history, newest first; reloaded when a sweep starts or ends, the running row kept live. */
export function SessionsPanel({ api, sweep, syncTick }) {
  const load = useCallback((cursor) => api.get('/api/sync/sessions', { limit: PAGE_SIZE, cursor }), [api]);
  const list = usePagedList(load);
  const { refresh } = list;
  useEffect(() => {
    if (syncTick > 0) refresh();
  }, [syncTick, refresh]);

  return html`<${Panel} id="sessions" className="span-7" title="Recent sessions">
    <${LoadError} error=${list.error} what="the sessions" />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Mode</th>
            <th scope="col" class="optional">Trigger</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num optional">Seen</th>
            <th scope="col" class="num">Drift</th>
            <th scope="col" class="num optional">Errors</th>
          </tr>
        </thead>
        <tbody>
          ${list.rows.map((session) => html`<${SessionRow} key=${session.id} session=${withLive(session, sweep)} />`)}
          ${
            list.rows.length === 0
              ? html`<${EmptyRow} columns="8">${list.loading ? 'Loading…' : 'No sweep has run yet.'}<//>`
              : null
          }
        </tbody>
      </table>
    </div>
    <${MoreButton} list=${list} label="More sessions" />
  <//>`;
}
