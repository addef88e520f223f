import { html } from 'htm/preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { contactName } from '../lib/format.js';
import { usePagedList } from '../lib/hooks.js';
import { Badge, EmptyRow, LoadError, MoreButton, Notice, Time } from '../lib/ui.js';
import { SyncStatus } from './contacts.js';

const HISTORY_PAGE_SIZE = 25;
const SOURCES = { webhook: 'Webhook', sweep: 'Sweep', fetch: 'Fetch-back' };

function Value({ value }) {
  if (value === null || value === undefined || value === '') return html`<span class="muted">empty</span>`;
  return html`<span class="value">${String(value)}</span>`;
}

/** What an audit entry changed, as "name: old → new" lines (the first few). */
function auditChanges(entry) {
  const before = entry.oldData && typeof entry.oldData === 'object' ? entry.oldData : {};
  const after = entry.newData && typeof entry.newData === 'object' ? entry.newData : {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]),
  );
  const text = (value) =>
    value === undefined || value === null
      ? '∅'
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  const lines = names.slice(0, 4).map((name) => `${name}: ${text(before[name])} → ${text(after[name])}`);
  if (names.length > 4) lines.push(`+${names.length - 4} more`);
  return lines;
}

function PropertiesTable({ properties }) {
  const names = Object.keys(properties ?? {}).sort();
  return html`<div class="table-wrap">
    <table class="key-values">
      <thead>
        <tr><th scope="col">Property</th><th scope="col">Value</th></tr>
      </thead>
      <tbody>
        ${names.map((name) => html`<tr key=${name}><th scope="row"><code>${name}</code></th><td><${Value} value=${properties[name]} /></td></tr>`)}
        ${names.length === 0 ? html`<${EmptyRow} columns="2">No properties mirrored.<//>` : null}
      </tbody>
    </table>
  </div>`;
}

function PropertyHistory({ api, hubspotId, propertyNames }) {
  const [property, setProperty] = useState('');
  const load = useCallback(
    (cursor) =>
      api.get(`/api/contacts/${hubspotId}/history`, {
        property: property || undefined,
        limit: HISTORY_PAGE_SIZE,
        cursor,
      }),
    [api, hubspotId, property],
  );
  const list = usePagedList(load);
  return html`<section aria-labelledby="history-title">
    <div class="section-head">
      <h3 id="history-title">Property history</h3>
      <div class="field inline">
        <label for="history-property">Property</label>
        <select id="history-property" value=${property} onChange=${(event) => setProperty(event.currentTarget.value)}>
          <option value="">All properties</option>
          ${propertyNames.map((name) => html`<option key=${name} value=${name}>${name}</option>`)}
        </select>
      </div>
    </div>
    <${LoadError} error=${list.error} what="the property history" />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Property</th>
            <th scope="col">Value</th>
            <th scope="col" class="optional">Source</th>
            <th scope="col">Applied</th>
          </tr>
        </thead>
        <tbody>
          ${list.rows.map(
            (change) => html`<tr key=${change.id}>
              <td><${Time} iso=${change.occurredAt} /></td>
              <td><code>${change.propertyName}</code></td>
              <td class="truncate"><${Value} value=${change.value} /></td>
              <td class="optional">${SOURCES[change.source] ?? change.source}</td>
              <td>
                ${
                  change.applied
                    ? html`<${Badge} tone="ok">Applied<//>`
                    : html`<${Badge} tone="neutral" title="An older change that arrived after a newer one">Superseded<//>`
                }
              </td>
            </tr>`,
          )}
          ${list.rows.length === 0 && !list.error ? html`<${EmptyRow} columns="5">${list.loading ? 'Loading…' : 'No recorded changes.'}<//>` : null}
        </tbody>
      </table>
    </div>
    <${MoreButton} list=${list} label="More history" />
  </section>`;
}

function AuditTrail({ entries }) {
  return html`<section aria-labelledby="audit-title">
    <h3 id="audit-title">Audit trail</h3>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Operation</th>
            <th scope="col" class="optional">By</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          ${entries.map(
            (entry) => html`<tr key=${entry.id}>
              <td><${Time} iso=${entry.timestamp} /></td>
              <td>${entry.operation ?? '—'}</td>
              <td class="optional">${entry.userId ?? 'sync'}</td>
              <td class="changes">${auditChanges(entry).map((line) => html`<div key=${line}>${line}</div>`)}</td>
            </tr>`,
          )}
          ${entries.length === 0 ? html`<${EmptyRow} columns="4">No audit entries.<//>` : null}
        </tbody>
      </table>
    </div>
  </section>`;
}

function ContactDetail({ api, hubspotId, onOpenContact, onClose }) {
  const [contact, setContact] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let current = true;
    api.get(`/api/contacts/${hubspotId}`).then(
      (found) => current && setContact(found),
      (failure) => current && setError(failure),
    );
    return () => {
      current = false;
    };
  }, [api, hubspotId]);

  const title = contact ? contactName(contact.properties, hubspotId) : `Contact ${hubspotId}`;
  return html`
    <header class="dialog-head">
      <div>
        <h2 id="contact-title">${title}</h2>
        <p class="muted small">
          HubSpot id <span class="num">${hubspotId}</span>
          ${contact ? html` · updated <${Time} iso=${contact.updatedAt} />` : null}
        </p>
        ${
          contact
            ? html`<p class="badges">
                <${SyncStatus} status=${contact.syncStatus} />
                ${contact.archived ? html`<${Badge} tone="bad">Archived<//>` : null}
                ${
                  contact.mergedInto
                    ? html`<span>
                        merged into${' '}
                        <button type="button" class="link num" onClick=${() => onOpenContact(contact.mergedInto)}>
                          ${contact.mergedInto}
                        </button>
                      </span>`
                    : null
                }
              </p>`
            : null
        }
      </div>
      <button type="button" class="close" onClick=${onClose}>Close</button>
    </header>
    ${error ? html`<${Notice} tone="bad">Could not load contact ${hubspotId}: ${error.message}<//>` : null}
    ${!contact && !error ? html`<p class="empty">Loading…</p>` : null}
    ${
      contact
        ? html`<div class="dialog-body">
            <section aria-labelledby="properties-title">
              <h3 id="properties-title">Properties</h3>
              <${PropertiesTable} properties=${contact.properties} />
            </section>
            <${PropertyHistory}
              api=${api}
              hubspotId=${hubspotId}
              propertyNames=${Object.keys(contact.properties ?? {}).sort()}
            />
            <${AuditTrail} entries=${contact.audit ?? []} />
          </div>`
        : null
    }
  `;
}

/** A contact's detail in a modal <dialog>: properties, property history, audit trail. */
export function ContactDialog({ api, hubspotId, onOpenContact, onClose }) {
  const dialog = useRef(null);
  useEffect(() => {
    const element = dialog.current;
    if (hubspotId && !element.open) element.showModal();
    if (!hubspotId && element.open) element.close();
  }, [hubspotId]);

  return html`<dialog
    ref=${dialog}
    class="contact-dialog"
    aria-labelledby="contact-title"
    onClose=${onClose}
    onClick=${(event) => {
      // A click on the backdrop lands on the dialog element itself.
      if (event.target === dialog.current) dialog.current.close();
    }}
  >
    <div class="dialog-inner">
      ${
        hubspotId
          ? html`<${ContactDetail}
              key=${hubspotId}
              api=${api}
              hubspotId=${hubspotId}
              onOpenContact=${onOpenContact}
              onClose=${() => dialog.current.close()}
            />`
          : null
      }
    </div>
  </dialog>`;
}
