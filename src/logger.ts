import pino, { type Logger } from 'pino';

export type { Logger };

// Anything that may carry a credential is censored wherever it appears in a log line.
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.password',
  '*.token',
  '*.authorization',
];

/** Removes `token=` values from a URL before it is logged (dashboards and WebSockets pass one there). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|code)=)[^&#]*/gi, '$1[Redacted]');
}

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
}

export function createLogger({ level, pretty = false }: LoggerOptions): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: redactUrl(req.url),
        ip: req.ip,
      }),
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
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
