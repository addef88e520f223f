import { html } from 'htm/preact';
import { Component } from 'preact';
import { useState } from 'preact/hooks';
import { useLiveMessages } from '../lib/hooks.js';
import { Badge, Notice, Panel, Time } from '../lib/ui.js';

// The DOM keeps this many rows; older ones fall off the bottom.
const MAX_ROWS = 200;

const KINDS = {
  'contact:created': { tone: 'ok', word: 'Created' },
  'contact:updated': { tone: 'info', word: 'Updated' },
  'contact:deleted': { tone: 'bad', word: 'Deleted' },
  'contact:restored': { tone: 'ok', word: 'Restored' },
  'contact:merged': { tone: 'warn', word: 'Merged' },
};
const SOURCES = { webhook: 'webhook', sweep: 'sweep', fetch: 'fetch-back' };

function toRow(message) {
  return {
    key: `${message.seq}-${message.data?.hubspotId}`,
    type: message.type,
    at: message.at,
    ...message.data,
  };
}

function describe(row) {
  if (row.privacy) return 'privacy deletion';
  if (row.type === 'contact:merged' && row.mergedInto) return `merged into ${row.mergedInto}`;
  const names = Array.isArray(row.properties) ? row.properties : [];
  if (names.length === 0) return '';
  const shown = names.slice(0, 4).join(', ');
  return names.length > 4 ? `${shown} +${names.length - 4}` : shown;
}

/** One change; written once and never diffed again, so a busy feed costs only its new rows. */
class FeedRow extends Component {
  shouldComponentUpdate() {
    return false;
  }

  render({ row, onOpen }) {
    const kind = KINDS[row.type] ?? { tone: 'neutral', word: row.type.replace('contact:', '') };
    return html`<tr>
      <td><${Time} iso=${row.at} /></td>
      <td><${Badge} tone=${kind.tone}>${kind.word}<//></td>
      <td>
        <button type="button" class="link num" onClick=${() => onOpen(row.hubspotId)}>${row.hubspotId}</button>
      </td>
      <td class="changed">${describe(row)}</td>
      <td class="muted optional nowrap">${SOURCES[row.source] ?? row.source ?? ''}</td>
    </tr>`;
  }
}

/** Contact changes as the socket reports them, newest first. Only this panel re-renders as they arrive. */
export function FeedPanel({ live, onOpenContact }) {
  const [rows, setRows] = useState([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState([]);
  const [missedAt, setMissedAt] = useState(null);

  useLiveMessages(live, (batch) => {
    const reset = batch.findLast((message) => message.type === 'reset');
    if (reset) setMissedAt(reset.at ?? new Date().toISOString());
    const changes = batch.filter((message) => message.type.startsWith('contact:')).map(toRow);
    if (changes.length === 0) return;
    changes.reverse();
    if (paused) setHeld((waiting) => [...changes, ...waiting].slice(0, MAX_ROWS));
    else setRows((shown) => [...changes, ...shown].slice(0, MAX_ROWS));
  });

  function togglePause() {
    if (paused) {
      setRows((shown) => [...held, ...shown].slice(0, MAX_ROWS));
      setHeld([]);
    }
    setPaused(!paused);
  }

  return html`<${Panel}
    id="feed"
    className="span-5"
    title="Live changes"
    actions=${html`<button type="button" onClick=${togglePause}>
      ${paused ? `Resume${held.length ? ` (${held.length} new)` : ''}` : 'Pause'}
    </button>`}
  >
    ${
      missedAt
        ? html`<${Notice} tone="warn">
            Some changes made while this page was away (before <${Time} iso=${missedAt} />) are missing from the
            feed; the other panels were reloaded.
          <//>`
        : null
    }
    <div class="table-wrap feed-scroll" tabindex="0" role="region" aria-label="Contact changes, newest first">
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Change</th>
            <th scope="col">Contact</th>
            <th scope="col">Properties</th>
            <th scope="col" class="optional">Source</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((row) => html`<${FeedRow} key=${row.key} row=${row} onOpen=${onOpenContact} />`)}
        </tbody>
      </table>
      ${rows.length === 0 ? html`<p class="empty">Waiting for contact changes…</p>` : null}
    </div>
  <//>`;
}
