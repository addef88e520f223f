import { html } from 'htm/preact';
import { render } from 'preact';
import { useCallback, useState } from 'preact/hooks';
import { Dashboard } from './dashboard.js';
import { forgetToken, storedToken, storeToken, takeTokenFromAddress } from './lib/token.js';
import { SignIn } from './panels/sign-in.js';

// Before anything renders, so the token leaves the address bar at once.
takeTokenFromAddress();

function App() {
  const [token, setToken] = useState(storedToken);
  const [refusal, setRefusal] = useState(null);

  const signIn = useCallback((given) => {
    storeToken(given);
    setRefusal(null);
    setToken(given);
  }, []);
  const signOut = useCallback((reason) => {
    forgetToken();
    setRefusal(typeof reason === 'string' ? reason : null);
    setToken(null);
  }, []);

  if (!token) return html`<${SignIn} error=${refusal} onSignIn=${signIn} />`;
  return html`<${Dashboard} key=${token} token=${token} onSignOut=${signOut} />`;
}

render(html`<${App} />`, document.getElementById('app'));
