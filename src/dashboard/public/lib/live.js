const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
// Hidden tabs get no animation frames: a timer makes sure the queue still drains there.
const FLUSH_FALLBACK_MS = 1000;
// Close codes: the server dropped a client that fell behind, or is going away (a deploy).
const LAGGED = 4008;

/**
 * The one WebSocket that feeds the page. It reconnects with backoff, resumes from the highest `seq` it has
 * seen (`since=`), drops what it already had, and hands messages to listeners in one batch per frame.
 *
 * States: `connecting` (never connected yet), `live`, `reconnecting`, `closed` (stopped for good).
 */
export function createLive({ token }) {
  const batchListeners = new Set();
  const stateListeners = new Set();
  let socket = null;
  let state = 'connecting';
  let lastSeq = null;
  let failures = 0;
  let retryTimer = 0;
  let stopped = false;
  let queue = [];
  let frame = 0;
  let fallbackTimer = 0;

  function setState(next) {
    if (state === next) return;
    state = next;
    for (const listener of stateListeners) listener(state);
  }

  function flush() {
    cancelAnimationFrame(frame);
    clearTimeout(fallbackTimer);
    frame = 0;
    fallbackTimer = 0;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    for (const listener of batchListeners) listener(batch);
  }

  function enqueue(message) {
    queue.push(message);
    if (frame || fallbackTimer) return;
    frame = requestAnimationFrame(flush);
    fallbackTimer = setTimeout(flush, FLUSH_FALLBACK_MS);
  }

  function receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!message || typeof message.type !== 'string') return;
    switch (message.type) {
      case 'hello':
        failures = 0;
        // The first hello tells where the stream stands; later ones come before the replay of what was missed.
        if (lastSeq === null && typeof message.seq === 'number') lastSeq = message.seq;
        setState('live');
        enqueue(message);
        return;
      case 'reset':
        // Events were lost (we were away too long): start again from the head; listeners reload from REST.
        if (typeof message.seq === 'number') lastSeq = message.seq;
        enqueue(message);
        return;
      case 'subscribed':
        return;
      default:
        if (typeof message.seq === 'number') {
          if (lastSeq !== null && message.seq <= lastSeq) return;
          lastSeq = message.seq;
        }
        enqueue(message);
    }
  }

  function connect() {
    const url = new URL('/ws', window.location.href);
    url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    if (lastSeq !== null) url.searchParams.set('since', String(lastSeq));
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener('message', (event) => {
      if (socket === current) receive(event.data);
    });
    current.addEventListener('close', (event) => {
      if (socket !== current) return;
      socket = null;
      if (stopped) return;
      setState('reconnecting');
      retryLater(event.code === LAGGED ? 0 : failures++);
    });
  }

  function retryLater(attempt) {
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** attempt, BACKOFF_MAX_MS);
    // Some jitter, so that a restarted server is not met by every dashboard in the same millisecond.
    retryTimer = setTimeout(connect, delay * (0.8 + Math.random() * 0.4));
  }

  connect();

  return {
    get state() {
      return state;
    },
    /** `listener(messages)`: every message received since the last frame, in order. Returns an unsubscribe. */
    onBatch(listener) {
      batchListeners.add(listener);
      return () => batchListeners.delete(listener);
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      cancelAnimationFrame(frame);
      clearTimeout(fallbackTimer);
      queue = [];
      socket?.close(1000, 'signed out');
      socket = null;
      setState('closed');
    },
  };
}
