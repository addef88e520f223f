import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from '../http/app-error.ts';

const FORMAT = 'v1';

/** A short, stable name for a key, stored beside what it encrypted so rotation knows which key to use. */
export const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

export const encryptionKeyMissing = () =>
  new AppError({
    code: 'connections.encryption_key_missing',
    status: 503,
    message:
      'TOKEN_ENCRYPTION_KEY is not set, so OAuth tokens cannot be stored encrypted: set it to 32 random bytes ' +
      'of base64 (openssl rand -base64 32) and restart',
  });

export class TokenKeyError extends Error {
  override name = 'TokenKeyError';
}

/**
 * AES-256-GCM over a key ring (TOKEN_ENCRYPTION_KEY): the first key encrypts, every key decrypts. A
 * ciphertext is `v1.<key id>.<iv>.<tag>.<data>` (base64url), so it names the key that can open it.
 */
export function createTokenCipher(keys: readonly Buffer[] | undefined) {
  const ring = new Map((keys ?? []).map((key) => [keyIdOf(key), key]));
  const first = keys?.[0];

  return {
    /** The id of the key new ciphertexts use; undefined when no key is configured. */
    currentKeyId: first ? keyIdOf(first) : undefined,

    encrypt(plaintext: string): string {
      if (!first) throw encryptionKeyMissing();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', first, iv);
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [FORMAT, keyIdOf(first), iv, cipher.getAuthTag(), data]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },

    /** Throws a TokenKeyError naming the problem when no key of the ring opens the ciphertext. */
    decrypt(ciphertext: string): string {
      const [format, keyId, iv, tag, data] = ciphertext.split('.');
      if (format !== FORMAT || !keyId || !iv || !tag || data === undefined)
        throw new TokenKeyError('a stored token is not in the expected encrypted form');
      const key = ring.get(keyId);
      if (!key)
        throw new TokenKeyError(
          `a stored token was encrypted with key ${keyId}, which TOKEN_ENCRYPTION_KEY does not hold ` +
            `(it holds ${[...ring.keys()].join(', ') || 'no key'})`,
        );
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
          'utf8',
        );
      } catch (error) {
        throw new TokenKeyError(
          `key ${keyId} does not open a stored token: it was altered or the key is wrong`,
          {
            cause: error,
          },
        );
      }
    },
  };
}

export type TokenCipher = ReturnType<typeof createTokenCipher>;
