import { z } from 'zod';

export const DEFAULT_CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'mobilephone',
  'company',
  'jobtitle',
  'website',
  'address',
  'city',
  'state',
  'zip',
  'country',
  'lifecyclestage',
  'hs_lead_status',
  'hubspot_owner_id',
  'createdate',
  'lastmodifieddate',
  'hs_merged_object_ids',
];

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `15m`, `24h`, `1h30m` or `0` (disabled) into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const parts = [...trimmed.matchAll(/(\d+)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) return undefined;
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * (UNITS_MS[unit ?? ''] ?? 0), 0);
}

const duration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 15m, 24h or 0' });
    return z.NEVER;
  }
  return ms;
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });

// A key ring: the first key encrypts, every key decrypts, so keys can be rotated without downtime.
const encryptionKeys = z.string().transform((text, ctx) => {
  const keys = text.split(',').map((k) => k.trim());
  const decoded = keys.map((k) => Buffer.from(k, 'base64'));
  const badIndex = decoded.findIndex((key, i) => key.length !== 32 || key.toString('base64') !== keys[i]);
  if (badIndex !== -1) {
    ctx.addIssue({
      code: 'custom',
      message: `key ${badIndex + 1} is not 32 bytes of base64 (openssl rand -base64 32)`,
    });
    return z.NEVER;
  }
  return decoded;
});

const token = z.string().min(16, 'must be at least 16 characters');

/** Which contact properties to mirror: every one HubSpot defines, or a fixed list of names. */
export type ContactPropertySelection = { mode: 'all' } | { mode: 'list'; names: string[] };

const contactProperties = z.string().transform((text, ctx): ContactPropertySelection => {
  if (text.trim().toLowerCase() === 'all') return { mode: 'all' };
  const names = [
    ...new Set(
      text
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    ),
  ];
  // `all` only stands alone: in a list it would read as a property named "all".
  const bad = names.filter((name) => !/^[A-Za-z0-9_]+$/.test(name) || name.toLowerCase() === 'all');
  if (names.length === 0 || bad.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected all, or a comma-separated list of property names${bad.length > 0 ? ` (not ${bad.join(', ')})` : ''}`,
    });
    return z.NEVER;
  }
  return { mode: 'list', names };
});

const Env = z.object({
  PORT: z.coerce
    .number({ error: 'expected a port number' })
    .int('expected a whole port number')
    .min(1, 'expected a port between 1 and 65535')
    .max(65535, 'expected a port between 1 and 65535')
    .default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
    .optional(),
  PGLITE_DIR: z.string().min(1).default('./.data/pglite'),
  // With NODE_ENV=production and no DATABASE_URL, the server and db:migrate refuse to run on the embedded
  // database (each machine would keep a private mirror of its own) unless this says it is meant.
  ALLOW_EMBEDDED_DATABASE: z
    .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
  HUBSPOT_CLIENT_ID: z.string().min(1).optional(),
  HUBSPOT_ACCESS_TOKEN: z.string().min(1).optional(),
  HUBSPOT_PORTAL_ID: z.coerce.number({ error: 'expected a numeric hub id' }).int().positive().optional(),
  HUBSPOT_API_BASE: httpUrl.default('https://api.hubapi.com').transform((url) => url.replace(/\/+$/, '')),
  HUBSPOT_AUTHORIZE_URL: httpUrl.default('https://app.hubspot.com/oauth/authorize'),
  HUBSPOT_CONTACT_PROPERTIES: contactProperties.default({ mode: 'list', names: DEFAULT_CONTACT_PROPERTIES }),
  /** How often HubSpot's property definitions are read again (new ones picked up, deleted ones dropped). */
  HUBSPOT_SCHEMA_CHECK_INTERVAL: duration.default(3_600_000),
  WEBHOOK_PUBLIC_URL: httpUrl.optional(),
  // v1/v2 sign no timestamp, so a captured delivery could be replayed at any age: v3 only unless asked.
  WEBHOOK_SIGNATURE_VERSIONS: z
    .string()
    .default('v3')
    .transform((text, ctx) => {
      const versions = [...new Set(text.split(',').map((item) => item.trim().toLowerCase()))];
      const known = ['v1', 'v2', 'v3'] as const;
      const bad = versions.filter((v) => !known.includes(v as (typeof known)[number]));
      if (versions.length === 0 || bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of v1, v2, v3' });
        return z.NEVER;
      }
      return versions as (typeof known)[number][];
    }),
  TOKEN_ENCRYPTION_KEY: encryptionKeys.optional(),
  ADMIN_TOKEN: token.optional(),
  READ_TOKEN: token.optional(),
  RECONCILE_INTERVAL: duration.default(15 * 60_000),
  FULL_RECONCILE_INTERVAL: duration.default(24 * 3_600_000),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

// Values never echoed back in an error: they may hold credentials.
const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'HUBSPOT_CLIENT_SECRET',
  'HUBSPOT_ACCESS_TOKEN',
  'TOKEN_ENCRYPTION_KEY',
  'ADMIN_TOKEN',
  'READ_TOKEN',
]);

export type Env = z.input<typeof Env>;
export type Config = z.output<typeof Env>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once. Empty values count as unset, as env files and orchestrators often
 * write `NAME=` for "no value". Throws a ConfigError whose message is one line naming every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.keys(Env.shape).flatMap((name) => {
      const value = env[name];
      return value === undefined || value.trim() === '' ? [] : [[name, value]];
    }),
  );
  const result = Env.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const secret = SECRET_VARIABLES.has(name);
    const got = secret || present[name] === undefined ? '' : ` (got "${present[name]}")`;
    return `${name}: ${issue.message}${got}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}
