/** Every event type the outbox carries, by family. */
export const EVENT_TYPES = [
  'sync:start',
  'sync:progress',
  'sync:complete',
  'sync:error',
  'connection:status',
  'contact:created',
  'contact:updated',
  'contact:deleted',
  'contact:restored',
  'contact:merged',
  'contact:purged',
] as const;

const FAMILIES = new Set(EVENT_TYPES.map((type) => type.split(':')[0]));
const KNOWN = new Set<string>(EVENT_TYPES);
export const MAX_PATTERNS = 32;

/** What a client listens to: exact types, `family:*` prefixes, or `*` for everything. */
export interface Subscription {
  all: boolean;
  exact: Set<string>;
  families: Set<string>;
  /** As the client gave it, for the acknowledgement. */
  patterns: string[];
}

export const everything = (): Subscription => ({
  all: true,
  exact: new Set(),
  families: new Set(),
  patterns: ['*'],
});

/** Parses patterns such as `sync:*` or `contact:updated`; throws a message naming the first bad one. */
export function parseSubscription(patterns: readonly string[]): Subscription {
  if (patterns.length === 0) throw new Error('subscribe needs at least one pattern, such as "*" or "sync:*"');
  if (patterns.length > MAX_PATTERNS) throw new Error(`subscribe takes at most ${MAX_PATTERNS} patterns`);
  const subscription: Subscription = {
    all: false,
    exact: new Set(),
    families: new Set(),
    patterns: [...new Set(patterns)],
  };
  for (const pattern of patterns) {
    if (pattern === '*') subscription.all = true;
    else if (pattern.endsWith(':*') && FAMILIES.has(pattern.slice(0, -2)))
      subscription.families.add(pattern.slice(0, -2));
    else if (KNOWN.has(pattern)) subscription.exact.add(pattern);
    else
      throw new Error(
        `unknown event pattern "${pattern.slice(0, 64)}": use "*", a family such as "sync:*", or one of ${EVENT_TYPES.join(', ')}`,
      );
  }
  return subscription;
}

export function matches(subscription: Subscription, type: string): boolean {
  if (subscription.all || subscription.exact.has(type)) return true;
  const colon = type.indexOf(':');
  return colon > 0 && subscription.families.has(type.slice(0, colon));
}
