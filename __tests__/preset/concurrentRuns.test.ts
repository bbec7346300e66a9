/** Several Jest processes at once on one machine: every worker of every run gets a server of its own. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(120_000);

it('three Jest runs started together, two workers each, use six distinct servers and ports', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-concurrent-'));
  try {
    const runs = [1, 2, 3].map((n) =>
      spawnJest(join(REPO, '__tests__', 'fixtures', 'lifecycle'), ['--no-cache', '--maxWorkers=2'], {
        MODE: 'pass',
        PID_FILE: join(dir, `run${n}.json`),
      }),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r.stderr).toContain('Tests:       2 passed, 2 total');
    const recorded = [1, 2, 3].map((n) => JSON.parse(readFileSync(join(dir, `run${n}.json`), 'utf8')) as { pids: number[]; urls: string[] });
    const pids = recorded.flatMap((r) => r.pids);
    const urls = recorded.flatMap((r) => r.urls);
    expect(new Set(pids).size).toBe(6);
    expect(new Set(urls).size).toBe(6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
