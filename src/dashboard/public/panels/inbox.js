import { html } from 'htm/preact';
import { formatCount, formatDuration } from '../lib/format.js';
import { Badge, Notice, Panel, Time } from '../lib/ui.js';

// How far behind HubSpot the mirror may fall before the page says so.
const LAG_WARN_MS = 30_000;
const LAG_BAD_MS = 5 * 60_000;

function lagState(inbox) {
  if (!inbox) return null;
  if (inbox.pending === 0) return { tone: 'ok', word: 'Caught up' };
  if (inbox.lagMs >= LAG_BAD_MS) return { tone: 'bad', word: 'Far behind' };
  if (inbox.lagMs >= LAG_WARN_MS) return { tone: 'warn', word: 'Behind' };
  return { tone: 'ok', word: 'Keeping up' };
}

function every(ms) {
  return ms ? `every ${formatDuration(ms)}` : 'off';
}

/** The webhook inbox: how much waits to be applied, how old the oldest event is, what is parked. */
export function InboxPanel({ status, error, updatedAt }) {
  const inbox = status?.inbox;
  const state = lagState(inbox);
  return html`<${Panel}
    id="inbox"
    className="span-4"
    title=${html`Inbox ${state ? html`<${Badge} tone=${state.tone}>${state.word}<//>` : null}`}
  >
    ${error ? html`<${Notice} tone="bad">Status unavailable: ${error.message}<//>` : null}
    <dl class="stats">
      <div>
        <dt>Pending events</dt>
        <dd class="num">${formatCount(inbox?.pending)}</dd>
      </div>
      <div>
        <dt>Lag</dt>
        <dd class="num">${inbox ? formatDuration(inbox.lagMs) : '—'}</dd>
      </div>
      <div data-attention=${inbox?.parked > 0}>
        <dt>Parked events</dt>
        <dd class="num">${formatCount(inbox?.parked)}</dd>
      </div>
      <div>
        <dt>Contacts awaiting fetch</dt>
        <dd class="num">${formatCount(status?.contactsAwaitingFetch)}</dd>
      </div>
    </dl>
    ${
      status?.schedule
        ? html`<p class="muted small">
            ${`Incremental sweeps ${every(status.schedule.incrementalEveryMs)}, full sweeps ${every(status.schedule.fullEveryMs)}.`}
          </p>`
        : null
    }
    <p class="muted small">Updated ${updatedAt ? html`<${Time} iso=${updatedAt} />` : '—'}</p>
  <//>`;
}
