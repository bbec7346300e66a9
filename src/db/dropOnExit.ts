import { dropDatabases } from './provision';
import type { RealDatabaseKind } from './databaseUrl';

/**
 * Run by the watchdog (`node dropOnExit.js`) when the Jest process ended without its teardown (SIGINT,
 * SIGTERM, SIGKILL, a crash): drops the per-worker databases listed on stdin, one JSON line each,
 * `{"kind":"postgres","url":"<admin url>","name":"jcc_..."}`. Connections still using them (Jest's orphaned
 * workers) are ended first, as in the teardown.
 */
export interface DropOnExitLine {
  kind: RealDatabaseKind;
  url: string;
  name: string;
}

export async function dropListed(input: string): Promise<void> {
  const groups = new Map<string, { kind: RealDatabaseKind; url: string; names: string[] }>();
  for (const text of input.split('\n')) {
    if (!text.trim()) continue;
    const { kind, url, name } = JSON.parse(text) as DropOnExitLine;
    const key = `${kind} ${url}`;
    if (!groups.has(key)) groups.set(key, { kind, url, names: [] });
    groups.get(key)!.names.push(name);
  }
  for (const { kind, url, names } of groups.values()) await dropDatabases(kind, url, names).catch(() => {});
}

if (require.main === module) {
  let input = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => (input += d));
  process.stdin.on('end', () => void dropListed(input).finally(() => process.exit(0)));
}
