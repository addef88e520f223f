import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createTokenCipher, keyIdOf, TokenKeyError } from '../../src/connections/token-cipher.ts';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);

describe('token encryption at rest', () => {
  test('a token comes back as it went in, and its ciphertext neither holds it nor repeats', () => {
    const cipher = createTokenCipher([oldKey]);
    const token = 'CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4';
    const once = cipher.encrypt(token);
    const twice = cipher.encrypt(token);
    expect(cipher.decrypt(once)).toBe(token);
    expect(once).not.toContain(token.slice(0, 12));
    expect(once).not.toBe(twice);
    expect(once.split('.')[1]).toBe(keyIdOf(oldKey));
  });

  test('in a key ring the first key encrypts and every key decrypts', () => {
    const before = createTokenCipher([oldKey]).encrypt('refresh-me');
    const ring = createTokenCipher([newKey, oldKey]);
    expect(ring.decrypt(before)).toBe('refresh-me');
    expect(ring.encrypt('x').split('.')[1]).toBe(keyIdOf(newKey));
    expect(ring.currentKeyId).toBe(keyIdOf(newKey));
  });

  test('a ciphertext no key of the ring opens fails loudly, naming the key it needs', () => {
    const sealed = createTokenCipher([oldKey]).encrypt('secret');
    expect(() => createTokenCipher([newKey]).decrypt(sealed)).toThrow(TokenKeyError);
    expect(() => createTokenCipher([newKey]).decrypt(sealed)).toThrow(keyIdOf(oldKey));
  });

  test('an altered ciphertext is refused, not decrypted to garbage', () => {
    const cipher = createTokenCipher([oldKey]);
    const [format, keyId, iv, tag, data] = cipher.encrypt('secret-token').split('.');
    const flipped = Buffer.from(data ?? '', 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const altered = [format, keyId, iv, tag, flipped.toString('base64url')].join('.');
    expect(() => cipher.decrypt(altered)).toThrow(/altered or the key is wrong/);
  });

  test('with no key configured, storing is refused with a clear 503', () => {
    const cipher = createTokenCipher(undefined);
    expect(cipher.currentKeyId).toBeUndefined();
    expect(() => cipher.encrypt('x')).toThrow(/TOKEN_ENCRYPTION_KEY is not set/);
  });
});
