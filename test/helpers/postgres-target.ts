export type TestDatabaseTarget =
  | { kind: 'postgres'; adminUrl: string; template: string }
  | { kind: 'pglite' };

/** The same server and credentials as `url`, another database. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
