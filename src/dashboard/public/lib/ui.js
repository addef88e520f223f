import { html } from 'htm/preact';
import { formatFullTime, formatTime } from './format.js';

// Every state is shown by a word and a colour together, never by colour alone.
const SESSION_STATES = {
  pending: { tone: 'info', word: 'Pending' },
  running: { tone: 'info', word: 'Running' },
  completed: { tone: 'ok', word: 'Completed' },
  failed: { tone: 'bad', word: 'Failed' },
};

/** A coloured dot and a word; `tone` is ok | warn | bad | info | neutral. */
export function Badge({ tone = 'neutral', children, title }) {
  return html`<span class="badge" data-tone=${tone} title=${title}>${children}</span>`;
}

export function SessionStatus({ status }) {
  const known = SESSION_STATES[status] ?? { tone: 'neutral', word: status ?? 'Unknown' };
  return html`<${Badge} tone=${known.tone}>${known.word}<//>`;
}

export function Time({ iso }) {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime=${iso} title=${formatFullTime(iso)}>${formatTime(iso)}</time>`;
}

export function Panel({ id, title, actions, children, className = '' }) {
  return html`<section class=${`panel ${className}`} aria-labelledby=${`${id}-title`} id=${id}>
    <header class="panel-head">
      <h2 id=${`${id}-title`}>${title}</h2>
      ${actions ? html`<div class="panel-actions">${actions}</div>` : null}
    </header>
    ${children}
  </section>`;
}

/** A message in the flow of a panel; errors are announced to screen readers. */
export function Notice({ tone = 'info', children }) {
  if (!children) return null;
  return html`<p class="notice" data-tone=${tone} role=${tone === 'bad' || tone === 'warn' ? 'alert' : 'status'}>
    ${children}
  </p>`;
}

export function LoadError({ error, what }) {
  if (!error) return null;
  return html`<${Notice} tone="bad">Could not load ${what}: ${error.message}<//>`;
}

/** The "more" button under a paged list, or nothing on the last page. */
export function MoreButton({ list, label = 'More' }) {
  if (!list.nextCursor) return null;
  return html`<div class="more">
    <button type="button" onClick=${() => list.more()} disabled=${list.loading}>
      ${list.loading ? 'Loading…' : label}
    </button>
  </div>`;
}

export function EmptyRow({ columns, children }) {
  return html`<tr class="empty-row"><td colspan=${columns}>${children}</td></tr>`;
}
