/** A failed API call: the HTTP status (0 when the service could not be reached) and the API's error code. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The REST client: every call carries the token; a 401 also tells `onUnauthorized`. */
export function createApi({ token, onUnauthorized }) {
  async function request(method, path, { query, body } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    }
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
    // No content-type without a body: the API refuses an empty JSON body.
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'the service could not be reached', null);
    }
    const payload = await response.json().catch(() => null);
    if (response.ok) return payload;
    const error = new ApiError(
      response.status,
      payload?.error?.code ?? `http_${response.status}`,
      payload?.error?.message ?? (response.statusText || `HTTP ${response.status}`),
      payload,
    );
    if (response.status === 401) onUnauthorized?.(error);
    throw error;
  }

  return {
    get: (path, query) => request('GET', path, { query }),
    post: (path, body) => request('POST', path, { body }),
  };
}
