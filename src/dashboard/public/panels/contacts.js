import { html } from 'htm/preact';
import { useCallback, useState } from 'preact/hooks';
import { contactName } from '../lib/format.js';
import { useDebounced, usePagedList } from '../lib/hooks.js';
import { Badge, EmptyRow, LoadError, MoreButton, Panel, Time } from '../lib/ui.js';

const PAGE_SIZE = 20;
const SEARCH_DELAY_MS = 300;
const SYNC_STATES = {
  synced: { tone: 'ok', word: 'Synced' },
  pending: { tone: 'warn', word: 'Pending' },
  failed: { tone: 'bad', word: 'Failed' },
};

export function SyncStatus({ status }) {
  const known = SYNC_STATES[status] ?? { tone: 'neutral', word: status ?? '—' };
  return html`<${Badge} tone=${known.tone}>${known.word}<//>`;
}

/** Contact search over the mirror (`q`: email, names, company), paged, each row opening its detail. */
export function ContactsPanel({ api, onOpenContact }) {
  const [query, setQuery] = useState('');
  const [archived, setArchived] = useState(false);
  const q = useDebounced(query.trim(), SEARCH_DELAY_MS);
  const load = useCallback(
    (cursor) => api.get('/api/contacts', { q, archived, limit: PAGE_SIZE, cursor }),
    [api, q, archived],
  );
  const list = usePagedList(load);

  return html`<${Panel} id="contacts" className="span-7" title="Contacts">
    <form class="filters" role="search" onSubmit=${(event) => event.preventDefault()}>
      <div class="field grow">
        <label for="contact-search">Search contacts</label>
        <input
          id="contact-search"
          type="search"
          placeholder="Name, email or company"
          autocomplete="off"
          maxlength="200"
          value=${query}
          onInput=${(event) => setQuery(event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="contact-archived">Show</label>
        <select
          id="contact-archived"
          value=${archived ? 'archived' : 'live'}
          onChange=${(event) => setArchived(event.currentTarget.value === 'archived')}
        >
          <option value="live">Live contacts</option>
          <option value="archived">Archived (deleted or merged)</option>
        </select>
      </div>
    </form>
    <${LoadError} error=${list.error} what="contacts" />
    <div class="table-wrap">
      <table aria-busy=${list.loading}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col" class="optional">Company</th>
            <th scope="col" class="optional">Sync</th>
            <th scope="col" class="optional">Updated</th>
          </tr>
        </thead>
        <tbody>
          ${list.rows.map(
            (contact) => html`<tr key=${contact.id}>
              <td>
                <button type="button" class="link" onClick=${() => onOpenContact(contact.hubspotId)}>
                  ${contactName(contact.properties, contact.hubspotId)}
                </button>
              </td>
              <td class="truncate">${contact.properties?.email ?? html`<span class="muted">—</span>`}</td>
              <td class="optional truncate">${contact.properties?.company ?? ''}</td>
              <td class="optional"><${SyncStatus} status=${contact.syncStatus} /></td>
              <td class="optional"><${Time} iso=${contact.updatedAt} /></td>
            </tr>`,
          )}
          ${
            list.rows.length === 0
              ? html`<${EmptyRow} columns="5">
                  ${list.loading ? 'Searching…' : q ? `No contact matches “${q}”.` : 'No contacts mirrored yet.'}
                <//>`
              : null
          }
        </tbody>
      </table>
    </div>
    <${MoreButton} list=${list} label="More contacts" />
  <//>`;
}
