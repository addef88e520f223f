import { html } from 'htm/preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { shortId } from '../lib/format.js';
import { usePagedList } from '../lib/hooks.js';
import { Badge, EmptyRow, LoadError, MoreButton, Notice, Panel, Time } from '../lib/ui.js';

const PAGE_SIZE = 20;

function events(count) {
  return `${count} parked event${count === 1 ? '' : 's'}`;
}

function ErrorActions({ api, entry, onResolved, onNotice }) {
  const [pending, setPending] = useState(null);

  async function act(action) {
    setPending(action);
    try {
      if (action === 'resolve') {
        const resolved = await api.post(`/api/errors/${entry.id}/resolve`);
        onResolved(resolved);
        onNotice({
          tone: 'ok',
          text: `Resolved ${entry.errorType}; ${events(resolved.replayedEvents ?? 0)} put back in line.`,
        });
      } else {
        const { replayedEvents } = await api.post(`/api/errors/${entry.id}/replay`);
        onNotice({
          tone: 'ok',
          text: `${events(replayedEvents ?? 0)} of ${entry.errorType} put back in line.`,
        });
      }
    } catch (error) {
      onNotice({ tone: 'bad', text: `Could not ${action} ${entry.errorType}: ${error.message}` });
    } finally {
      setPending(null);
    }
  }

  if (entry.resolved) return null;
  return html`<div class="row-actions">
    <button type="button" disabled=${pending !== null} onClick=${() => act('replay')} aria-label=${`Replay ${entry.errorType}`}>
      ${pending === 'replay' ? 'Replaying…' : 'Replay'}
    </button>
    <button type="button" disabled=${pending !== null} onClick=${() => act('resolve')} aria-label=${`Resolve ${entry.errorType}`}>
      ${pending === 'resolve' ? 'Resolving…' : 'Resolve'}
    </button>
  </div>`;
}

function ErrorDetails({ entry }) {
  if (!entry.stackTrace && entry.context == null) return null;
  return html`<details>
    <summary>Details</summary>
    ${entry.context != null ? html`<pre>${JSON.stringify(entry.context, null, 2)}</pre>` : null}
    ${entry.stackTrace ? html`<pre>${entry.stackTrace}</pre>` : null}
  </details>`;
}

/** The error log, newest first, with resolve and replay for admins. */
export function ErrorsPanel({ api, isAdmin, pollTick }) {
  const [showResolved, setShowResolved] = useState(false);
  const [notice, setNotice] = useState(null);
  const load = useCallback(
    (cursor) =>
      api.get('/api/errors', { resolved: showResolved ? undefined : false, limit: PAGE_SIZE, cursor }),
    [api, showResolved],
  );
  const list = usePagedList(load);
  const { refresh, setRows } = list;
  // Folding the first page in (not replacing the list) keeps a just-resolved row on screen until a reload.
  useEffect(() => {
    if (pollTick > 0) refresh();
  }, [pollTick, refresh]);

  const onResolved = (resolved) =>
    setRows((rows) => rows.map((row) => (row.id === resolved.id ? { ...row, ...resolved } : row)));

  return html`<${Panel}
    id="errors"
    className="span-5"
    title="Errors"
    actions=${html`
      <label class="inline-field">
        <input type="checkbox" checked=${showResolved} onChange=${(event) => setShowResolved(event.currentTarget.checked)} />
        Show resolved
      </label>
      <button type="button" onClick=${() => list.reload()}>Refresh</button>
    `}
  >
    ${notice ? html`<${Notice} tone=${notice.tone}>${notice.text}<//>` : null}
    <${LoadError} error=${list.error} what="the error log" />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Error</th>
            <th scope="col">State</th>
            ${isAdmin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : null}
          </tr>
        </thead>
        <tbody>
          ${list.rows.map(
            (entry) => html`<tr key=${entry.id}>
              <td><${Time} iso=${entry.timestamp} /></td>
              <td class="error-cell">
                <code class="error-type">${entry.errorType}</code>
                <span class="error-message">${entry.errorMessage}</span>
                ${entry.sessionId ? html`<span class="muted small">session ${shortId(entry.sessionId)}</span>` : null}
                <${ErrorDetails} entry=${entry} />
              </td>
              <td>
                ${
                  entry.resolved
                    ? html`<${Badge} tone="ok" title=${entry.resolvedBy ? `by ${entry.resolvedBy}` : undefined}>Resolved<//>`
                    : html`<${Badge} tone="bad">Open<//>`
                }
              </td>
              ${
                isAdmin
                  ? html`<td><${ErrorActions} api=${api} entry=${entry} onResolved=${onResolved} onNotice=${setNotice} /></td>`
                  : null
              }
            </tr>`,
          )}
          ${
            list.rows.length === 0
              ? html`<${EmptyRow} columns=${isAdmin ? 4 : 3}>
                  ${list.loading ? 'Loading…' : showResolved ? 'The error log is empty.' : 'No open errors.'}
                <//>`
              : null
          }
        </tbody>
      </table>
    </div>
    <${MoreButton} list=${list} label="More errors" />
  <//>`;
}
