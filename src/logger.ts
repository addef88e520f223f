import pino, { type Logger } from 'pino';

export type { Logger };

// Anything that may carry a credential is censored wherever it appears in a log line: at the top of the
// line's object and one level down (pino's `*` matches one level).
const SECRET_KEYS = [
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'clientSecret',
  'client_secret',
  'password',
  'token',
  'authorization',
  'api_key',
  'apiKey',
  'hapikey',
];
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
];

// Query parameters whose values are credentials (compared after percent-decoding: `%74oken=` is `token=`).
const SECRET_PARAMS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'code',
  'client_secret',
  'api_key',
  'apikey',
  'hapikey',
]);

// Path segments that are credentials: the segment after HubSpot's token paths
// (`/oauth/v1/refresh-tokens/<token>`, `/oauth/v1/access-tokens/<token>`), and anything shaped like one of our
// named keys (`hsk_…`) or a HubSpot private-app token (`pat-…`).
const TOKEN_PATH = /(\/(?:refresh|access)-tokens\/)[^/?#]+/gi;
const TOKEN_SEGMENT = /(^|\/)(?:hsk_|pat-)[^/?#]*/gi;

function decoded(text: string, { plusIsSpace = false } = {}): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text);
  } catch {
    return text;
  }
}

function redactQueryPart(part: string): string {
  const equals = part.indexOf('=');
  const name = decoded(equals === -1 ? part : part.slice(0, equals), { plusIsSpace: true })
    .trim()
    .toLowerCase();
  // `token%3Dabc` decodes to a name that holds the value too.
  const inner = name.indexOf('=');
  if (inner !== -1 && SECRET_PARAMS.has(name.slice(0, inner))) return '[Redacted]';
  if (equals !== -1 && SECRET_PARAMS.has(name)) return `${part.slice(0, equals)}=[Redacted]`;
  return part;
}

function redactPath(path: string): string {
  return path.replace(TOKEN_PATH, '$1[Redacted]').replace(TOKEN_SEGMENT, '$1[Redacted]');
}

/** Removes credentials from a URL before it is logged: token-like query values and path segments. */
export function redactUrl(url: string): string {
  const [path, rest] = splitOnce(url, '?');
  let safePath = redactPath(path);
  // An encoded segment (`%68sk_…`) must not slip through: judge the decoded path too.
  const plain = decoded(path);
  if (plain !== path && redactPath(plain) !== plain) safePath = redactPath(plain);
  if (rest === undefined) return safePath;
  const [search, hash] = splitOnce(rest, '#');
  const safeSearch = search
    .split(/([&;])/)
    .map((part) => (part === '&' || part === ';' ? part : redactQueryPart(part)))
    .join('');
  return `${safePath}?${safeSearch}${hash === undefined ? '' : `#${hash}`}`;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
  /** Where lines go (stdout by default); tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, pretty = false, destination }: LoggerOptions): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url?: string; id: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
        ip: req.ip,
      }),
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Pretty logs only for a person at a terminal, and only where pino-pretty is installed (not in the image). */
export function wantsPrettyLogs(): boolean {
  if (!process.stdout.isTTY) return false;
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
