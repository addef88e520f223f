import { html } from 'htm/preact';
import { Badge, Time } from '../lib/ui.js';

const HUBSPOT_STATES = {
  connected: { tone: 'ok', word: 'Connected' },
  disconnected: { tone: 'bad', word: 'Disconnected' },
  error: { tone: 'bad', word: 'Connection error' },
};

const SOCKET_STATES = {
  connecting: { tone: 'info', word: 'Connecting…' },
  live: { tone: 'ok', word: 'Live' },
  reconnecting: { tone: 'warn', word: 'Reconnecting…' },
  closed: { tone: 'neutral', word: 'Offline' },
};

const KINDS = { private_app: 'private app', oauth: 'OAuth' };

/** The HubSpot connection as last reported: a `connection:status` event wins over the polled status. */
export function connectionOf(status, liveConnection) {
  const polled = status?.connection;
  if (!polled && !liveConnection) return null;
  return {
    state: liveConnection?.state ?? polled?.state ?? (polled?.connected ? 'connected' : 'disconnected'),
    kind: liveConnection?.kind ?? polled?.kind ?? null,
    portalId: liveConnection?.portalId ?? polled?.portalId ?? null,
    error: liveConnection ? (liveConnection.error ?? null) : (polled?.lastError ?? null),
    installable: polled?.installable ?? false,
    dailyLimitUntil: polled?.dailyLimitUntil ?? null,
  };
}

export function Header({ connection, socketState, role, onSignOut, token }) {
  const hubspot = connection
    ? (HUBSPOT_STATES[connection.state] ?? { tone: 'neutral', word: connection.state })
    : null;
  const socket = SOCKET_STATES[socketState] ?? SOCKET_STATES.connecting;
  return html`<header class="top">
    <div class="brand">
      <h1>hubspot-sync</h1>
      <span class="muted">operators' dashboard</span>
    </div>
    <dl class="top-facts">
      <div>
        <dt>HubSpot</dt>
        <dd>
          ${hubspot ? html`<${Badge} tone=${hubspot.tone} title=${connection.error ?? undefined}>${hubspot.word}<//>` : '…'}
          ${connection?.kind ? html` <span class="muted">${KINDS[connection.kind] ?? connection.kind}</span>` : null}
          ${
            // The install starts on HubSpot's consent screen and comes back here; only an admin may start it.
            role === 'admin' && connection?.installable && connection.state !== 'connected'
              ? html` <a class="button" href=${`/oauth/install?token=${encodeURIComponent(token ?? '')}`}>Connect HubSpot</a>`
              : null
          }
        </dd>
      </div>
      <div>
        <dt>Portal</dt>
        <dd class="num">${connection?.portalId ?? '—'}</dd>
      </div>
      <div>
        <dt>Updates</dt>
        <dd><${Badge} tone=${socket.tone}>${socket.word}<//></dd>
      </div>
      <div>
        <dt>Signed in as</dt>
        <dd>${role === 'admin' ? 'admin' : role === 'read' ? 'read-only' : '…'}</dd>
      </div>
    </dl>
    <button type="button" class="sign-out" onClick=${() => onSignOut()}>Sign out</button>
    ${
      connection?.dailyLimitUntil
        ? html`<p class="notice banner" data-tone="warn" role="alert">
            HubSpot's daily API limit is used up: no call goes out until <${Time} iso=${connection.dailyLimitUntil} />.
          </p>`
        : null
    }
    ${
      connection?.error
        ? html`<p class="notice banner" data-tone="bad" role="alert">HubSpot connection: ${connection.error}</p>`
        : null
    }
  </header>`;
}
