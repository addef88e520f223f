import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from './lib/api.js';
import { createLive } from './lib/live.js';
import { useSyncState } from './lib/sync-state.js';
import { ContactDialog } from './panels/contact-dialog.js';
import { ContactsPanel } from './panels/contacts.js';
import { ErrorsPanel } from './panels/errors.js';
import { FeedPanel } from './panels/feed.js';
import { connectionOf, Header } from './panels/header.js';
import { InboxPanel } from './panels/inbox.js';
import { SessionsPanel } from './panels/sessions.js';
import { SweepPanel } from './panels/sweep.js';

const REFUSED = 'The service refused that token (401 Unauthorized). Check it and sign in again.';

/** The signed-in page: checks the token with a first status call, then opens the socket and shows the panels. */
export function Dashboard({ token, onSignOut }) {
  const api = useMemo(
    () => createApi({ token, onUnauthorized: () => onSignOut(REFUSED) }),
    [token, onSignOut],
  );
  const [live, setLive] = useState(null);
  const [socketState, setSocketState] = useState('connecting');
  const [openContact, setOpenContact] = useState(null);
  const sync = useSyncState({ api, live });
  const accepted = sync.status !== null || (sync.statusError !== null && sync.statusError.status !== 401);

  useEffect(() => {
    if (!accepted) return;
    const socket = createLive({ token });
    setLive(socket);
    const unsubscribe = socket.onState(setSocketState);
    return () => {
      unsubscribe();
      socket.stop();
    };
  }, [accepted, token]);

  if (!accepted) return html`<p class="boot" role="status">Checking the token…</p>`;

  const isAdmin = sync.role === 'admin';
  return html`
    <${Header}
      connection=${connectionOf(sync.status, sync.liveConnection)}
      socketState=${socketState}
      role=${sync.role}
      token=${token}
      onSignOut=${onSignOut}
    />
    <main class="grid">
      <${SweepPanel} api=${api} sweep=${sync.sweep} isAdmin=${isAdmin} onStarted=${sync.refreshStatus} />
      <${InboxPanel} status=${sync.status} error=${sync.statusError} updatedAt=${sync.updatedAt} />
      <${SessionsPanel} api=${api} sweep=${sync.sweep} syncTick=${sync.syncTick} />
      <${FeedPanel} live=${live} onOpenContact=${setOpenContact} />
      <${ContactsPanel} api=${api} onOpenContact=${setOpenContact} />
      <${ErrorsPanel} api=${api} isAdmin=${isAdmin} pollTick=${sync.pollTick} />
    </main>
    <${ContactDialog}
      api=${api}
      hubspotId=${openContact}
      onOpenContact=${setOpenContact}
      onClose=${() => setOpenContact(null)}
    />
  `;
}
