/** The real database engines the preset can provision (`database.kind`); `'pg-mem'` is the embedded default. */
export type RealDatabaseKind = 'postgres' | 'mysql';

export const DATABASE_KINDS = ['pg-mem', 'postgres', 'mysql'] as const;
export type DatabaseKindOption = (typeof DATABASE_KINDS)[number];

const PROTOCOLS: Record<RealDatabaseKind, readonly string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:', 'mariadb:'],
};

/** What a URL must look like, for messages: `postgres://user:password@host:5432/database`. */
export const URL_EXAMPLE: Record<RealDatabaseKind, string> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: 'mysql://root@127.0.0.1:3306/test',
};

/**
 * Checks a `database.url`; returns a problem to report (for INVALID_OPTIONS), or undefined when it is usable.
 * The database named in the path is only where the library connects to create and drop the per-worker
 * databases; tests never run in it.
 */
export function databaseUrlProblem(kind: RealDatabaseKind, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL. Expected something like ${URL_EXAMPLE[kind]}.`;
  }
  if (!PROTOCOLS[kind].includes(parsed.protocol))
    return `not a ${kind} URL: it must start with ${PROTOCOLS[kind].map((p) => `${p}//`).join(' or ')}, not ${parsed.protocol}//. Expected something like ${URL_EXAMPLE[kind]}.`;
  // A socket-only PostgreSQL URL (postgres:///db?host=/var/run/postgresql) has no hostname but a host parameter.
  if (!parsed.hostname && !parsed.searchParams.get('host') && !parsed.searchParams.get('socketPath'))
    return `missing a host. Expected something like ${URL_EXAMPLE[kind]}.`;
  return undefined;
}

/** The same server and credentials, another database: the per-worker URL handed to the workers. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The database named in the URL's path, or undefined. */
export function databaseOf(url: string): string | undefined {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  return name || undefined;
}

/** The URL with its password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of ['password', 'sslpassword']) if (u.searchParams.has(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return '(an unparseable URL)';
  }
}
