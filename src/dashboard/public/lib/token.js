// The API token, kept for this tab only: sessionStorage dies with the tab, unlike localStorage.
const KEY = 'hubspot-sync.token';

/**
 * Takes a token given once as `?token=` and removes it from the address bar, so it stays out of the
 * history, bookmarks and anything copied from the address bar.
 */
export function takeTokenFromAddress() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get('token');
  if (given === null) return;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  if (given.trim()) storeToken(given);
}

export function storedToken() {
  return window.sessionStorage.getItem(KEY);
}

export function storeToken(token) {
  window.sessionStorage.setItem(KEY, token.trim());
}

export function forgetToken() {
  window.sessionStorage.removeItem(KEY);
}
