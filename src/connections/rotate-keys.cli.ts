import { loadConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { createConnectionsRepository } from './connections.repository.ts';
import { reencryptTokens } from './rotate-keys.ts';
import { createTokenCipher } from './token-cipher.ts';

// `npm run keys:rotate`: after putting a new key first in TOKEN_ENCRYPTION_KEY, moves stored tokens onto it.
try {
  const config = loadConfig(process.env);
  const database = await createDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    maxConnections: 1,
  });
  try {
    await migrateDatabase(database);
    const { rewritten, keyId } = await reencryptTokens(
      database,
      createConnectionsRepository(),
      createTokenCipher(config.TOKEN_ENCRYPTION_KEY),
    );
    console.log(
      `re-encrypted the tokens of ${rewritten} connection(s) with key ${keyId}; the other keys can now be removed`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
