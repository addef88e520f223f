import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from '../../src/config.ts';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

describe('loadConfig', () => {
  test('with an empty environment it uses the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      PGLITE_DIR: './.data/pglite',
      HUBSPOT_API_BASE: 'https://api.hubapi.com',
      HUBSPOT_AUTHORIZE_URL: 'https://app.hubspot.com/oauth/authorize',
      RECONCILE_INTERVAL: 15 * 60_000,
      FULL_RECONCILE_INTERVAL: 24 * 3_600_000,
      LOG_LEVEL: 'info',
      TRUST_PROXY: false,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.HUBSPOT_CONTACT_PROPERTIES).toEqual({
      mode: 'list',
      names: expect.arrayContaining(['email', 'firstname', 'lifecyclestage']),
    });
    expect(config.HUBSPOT_SCHEMA_CHECK_INTERVAL).toBe(3_600_000);
  });

  test('an empty value counts as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: ' ' });
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
  });

  test.each([
    ['PORT', 'notaport'],
    ['PORT', '70000'],
    ['PORT', '30.5'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['HUBSPOT_API_BASE', 'ftp://example.com'],
    ['HUBSPOT_PORTAL_ID', 'abc'],
    ['RECONCILE_INTERVAL', 'soon'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_TOKEN', 'short'],
    ['TRUST_PROXY', 'maybe'],
  ])('a bad %s (%s) is refused with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration: ${name}: `));
  });

  test('every bad variable is named in the one line', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).toMatch(/PORT: .*; LOG_LEVEL: /);
    }
  });

  test('secret values are never echoed in the error', () => {
    const secret = 'postgres://user:hunter2-password@db/x';
    expect(() => loadConfig({ DATABASE_URL: secret.replace('postgres', 'mysql') })).toThrow(
      /^((?!hunter2).)*$/,
    );
  });

  test('the encryption key ring takes several 32-byte keys, the first one encrypting', () => {
    const config = loadConfig({ TOKEN_ENCRYPTION_KEY: `${key(1)}, ${key(2)}` });
    expect(config.TOKEN_ENCRYPTION_KEY?.map((k) => k[0])).toEqual([1, 2]);
    expect(() =>
      loadConfig({ TOKEN_ENCRYPTION_KEY: `${key(1)},${Buffer.alloc(16).toString('base64')}` }),
    ).toThrow(/TOKEN_ENCRYPTION_KEY: key 2 is not 32 bytes/);
  });

  test('the API base loses a trailing slash, which the HubSpot SDK would double', () => {
    expect(loadConfig({ HUBSPOT_API_BASE: 'http://127.0.0.1:4010/' }).HUBSPOT_API_BASE).toBe(
      'http://127.0.0.1:4010',
    );
  });

  test('contact properties are a trimmed comma list, without repeats', () => {
    expect(
      loadConfig({ HUBSPOT_CONTACT_PROPERTIES: 'email, firstname,,lastname ,email' })
        .HUBSPOT_CONTACT_PROPERTIES,
    ).toEqual({ mode: 'list', names: ['email', 'firstname', 'lastname'] });
  });

  test('contact properties can be every property HubSpot defines', () => {
    expect(loadConfig({ HUBSPOT_CONTACT_PROPERTIES: ' ALL ' }).HUBSPOT_CONTACT_PROPERTIES).toEqual({
      mode: 'all',
    });
  });

  test('a property list with something that is not a property name is refused, naming it', () => {
    expect(() => loadConfig({ HUBSPOT_CONTACT_PROPERTIES: 'email,all' })).toThrow(
      /HUBSPOT_CONTACT_PROPERTIES: expected all, or a comma-separated list of property names \(not all\)/,
    );
    expect(() => loadConfig({ HUBSPOT_CONTACT_PROPERTIES: 'email,first name' })).toThrow(/not first name/);
    expect(() => loadConfig({ HUBSPOT_CONTACT_PROPERTIES: ',,' })).toThrow(/HUBSPOT_CONTACT_PROPERTIES/);
  });
});

describe('parseDuration', () => {
  test.each([
    ['0', 0],
    ['250ms', 250],
    ['30s', 30_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', 'm', '15', '15 m', '-5m', '1.5h', '15mins'])('"%s" is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
