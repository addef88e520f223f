import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

/** The token form: shown first, after signing out, and when the service refused the token. */
export function SignIn({ error, onSignIn }) {
  const [token, setToken] = useState('');
  const submit = (event) => {
    event.preventDefault();
    if (token.trim()) onSignIn(token.trim());
  };
  return html`<main class="sign-in">
    <form class="panel sign-in-form" onSubmit=${submit} aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">hubspot-sync</h1>
      <p class="muted">Sign in with an API token (the admin token, or the read-only one) to see the mirror.</p>
      ${error ? html`<p class="notice" data-tone="bad" role="alert">${error}</p>` : null}
      <label for="token-input">API token</label>
      <input
        id="token-input"
        name="token"
        type="password"
        autocomplete="off"
        spellcheck="false"
        required
        autofocus
        value=${token}
        onInput=${(event) => setToken(event.currentTarget.value)}
      />
      <button type="submit" class="primary">Sign in</button>
      <p class="hint muted">The token is kept in this tab only (sessionStorage) and sent as a bearer token.</p>
    </form>
  </main>`;
}
