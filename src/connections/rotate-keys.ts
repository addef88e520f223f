import type { Database } from '../db/client.ts';
import type { ConnectionsRepository } from './connections.repository.ts';
import type { TokenCipher } from './token-cipher.ts';

/**
 * Re-encrypts every stored token with the first key of the ring, in one transaction. Afterwards the other
 * keys can be removed from TOKEN_ENCRYPTION_KEY. Returns how many connections were rewritten.
 */
export async function reencryptTokens(
  database: Database,
  connections: ConnectionsRepository,
  cipher: TokenCipher,
): Promise<{ rewritten: number; keyId: string }> {
  const keyId = cipher.currentKeyId;
  if (!keyId) throw new Error('TOKEN_ENCRYPTION_KEY is not set: there is no key to re-encrypt with');
  const rewritten = await database.db.transaction(async (tx) => {
    const rows = await connections.all(tx);
    for (const row of rows) {
      await connections.rewriteTokens(tx, row.id, {
        accessToken: cipher.encrypt(cipher.decrypt(row.access_token)),
        refreshToken: cipher.encrypt(cipher.decrypt(row.refresh_token)),
        tokenKeyId: keyId,
      });
    }
    return rows.length;
  });
  return { rewritten, keyId };
}
