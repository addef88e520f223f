import { loadConfig } from '../config.ts';
import { withConfiguredDatabase } from '../db/cli-database.ts';
import { createConnectionsRepository } from './connections.repository.ts';
import { reencryptTokens } from './rotate-keys.ts';
import { createTokenCipher } from './token-cipher.ts';

// `npm run keys:rotate`: after putting a new key first in TOKEN_ENCRYPTION_KEY, moves stored tokens onto it.
try {
  const config = loadConfig(process.env);
  const { rewritten, keyId } = await withConfiguredDatabase(config, (database) =>
    reencryptTokens(database, createConnectionsRepository(), createTokenCipher(config.TOKEN_ENCRYPTION_KEY)),
  );
  console.log(
    `re-encrypted the tokens of ${rewritten} connection(s) with key ${keyId}; the other keys can now be removed`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
