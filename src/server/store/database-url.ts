// What a `--database-url` is, told from its text alone (no driver is loaded here, so flag parsing
// stays light): a postgres:// or postgresql:// URL, or else the path of an SQLite file.

export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/** The URL fit for logs and error lines: a password in it becomes ***. */
export function redactDatabaseUrl(databaseUrl: string): string {
  return databaseUrl.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}
