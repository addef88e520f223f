import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { createAuditRepository } from '../audit/audit.repository.ts';
import { loadConfig } from '../config.ts';
import { withConfiguredDatabase } from '../db/cli-database.ts';
import type { Database } from '../db/client.ts';
import { createKeysRepository } from './keys.repository.ts';
import { KEY_NAME_PATTERN, KEY_NAME_RULE, type KeyView } from './keys.schemas.ts';

// `npm run keys -- create NAME --role admin|read` · `list` · `revoke NAME`: named API keys, on the database
// the service uses (DATABASE_URL, or the embedded one at PGLITE_DIR). The embedded database belongs to one
// process: stop the service before using this on it, or use the /api/keys routes instead.

const USAGE = 'usage: npm run keys -- create NAME --role admin|read | list | revoke NAME';

class UsageError extends Error {}

interface Command {
  name: 'create' | 'list' | 'revoke';
  keyName?: string;
  role?: 'admin' | 'read';
}

function parseCommand(argv: string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const { positionals, values } = parsed;
  const [command, keyName, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}; ${USAGE}`);
  const checkName = (name: string | undefined): string => {
    if (!name) throw new UsageError(`${command} needs a key name; ${USAGE}`);
    if (!KEY_NAME_PATTERN.test(name)) throw new UsageError(`bad key name "${name}": ${KEY_NAME_RULE}`);
    return name;
  };
  switch (command) {
    case 'create': {
      const name = checkName(keyName);
      if (values.role !== 'admin' && values.role !== 'read')
        throw new UsageError(
          values.role === undefined
            ? `create needs --role admin or --role read; ${USAGE}`
            : `role must be admin or read (got "${values.role}")`,
        );
      return { name: 'create', keyName: name, role: values.role };
    }
    case 'revoke':
      if (values.role !== undefined) throw new UsageError(`revoke takes no --role; ${USAGE}`);
      return { name: 'revoke', keyName: checkName(keyName) };
    case 'list':
      if (keyName !== undefined || values.role !== undefined)
        throw new UsageError(`list takes no arguments; ${USAGE}`);
      return { name: 'list' };
    default:
      throw new UsageError(command ? `unknown command "${command}"; ${USAGE}` : USAGE);
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { role: { type: 'string' } },
  });
}

function table(keys: KeyView[]): string {
  if (keys.length === 0) return 'no keys';
  const header = ['NAME', 'ROLE', 'CREATED', 'CREATED BY', 'LAST USED', 'REVOKED'];
  const rows = keys.map((k) => [
    k.name,
    k.role,
    k.createdAt,
    k.createdBy ?? '-',
    k.lastUsedAt ?? 'never',
    k.revokedAt ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

// The audit trail names whoever ran the command on this machine.
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

async function run(command: Command, database: Database): Promise<void> {
  const keys = createKeysRepository({ db: database.db });
  const audit = createAuditRepository({ db: database.db });
  const userId = cliActor();
  switch (command.name) {
    case 'create': {
      const { key, secret } = await keys.create({
        name: command.keyName ?? '',
        role: command.role ?? 'read',
        createdBy: userId,
      });
      await audit.record({
        entityType: 'api_key',
        entityId: key.name,
        operation: 'create',
        newData: { name: key.name, role: key.role },
        userId,
      });
      console.log(`created ${key.role} key ${key.name}:`);
      console.log(secret);
      console.log('Keep it now: it is stored only as a digest and will not be shown again.');
      return;
    }
    case 'list':
      console.log(table(await keys.list()));
      return;
    case 'revoke': {
      const { key, changed } = await keys.revoke(command.keyName ?? '', new Date());
      if (changed) {
        await audit.record({
          entityType: 'api_key',
          entityId: key.name,
          operation: 'update',
          oldData: { revokedAt: null },
          newData: { revokedAt: key.revokedAt },
          userId,
        });
      }
      console.log(
        changed ? `revoked key ${key.name}` : `key ${key.name} was already revoked at ${key.revokedAt}`,
      );
      return;
    }
  }
}

try {
  const command = parseCommand(process.argv.slice(2));
  const config = loadConfig(process.env);
  // As the service does at start-up: a fresh embedded database has no api_keys table until then.
  await withConfiguredDatabase(config, (database) => run(command, database));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
