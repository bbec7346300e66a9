/**
 * The race helpers in a project whose preset uses a real database (database.kind): Jest runs in a child process
 * on __tests__/race/fixtures/real-db (the built preset: `npm run build` first) against this machine's PostgreSQL
 * and MariaDB.
 */
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { REPO, spawnJest } from '../helpers/processes';

const FIXTURE = join(REPO, '__tests__', 'race', 'fixtures', 'real-db');
const URLS = { postgres: 'postgres://postgres@127.0.0.1:5432/test', mysql: 'mysql://root@127.0.0.1:3306/test' } as const;

jest.setTimeout(120_000);

describe.each(['postgres', 'mysql'] as const)('database.kind %s', (kind) => {
  it('race() and everyInterleaving() default to the real pool and reset', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'jcc-race-realdb-'));
    try {
      const result = await spawnJest(FIXTURE, ['--maxWorkers=1', `--cacheDirectory=${cache}`], { DB_KIND: kind, DB_URL: URLS[kind] }).done;
      const output = `${result.stdout}\n${result.stderr}`;
      expect({ code: result.code, output: result.code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
      expect(result.stderr).toMatch(/Tests: +2 passed, 2 total/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
