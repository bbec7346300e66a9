/**
 * Snapshot files as Jest writes them, in child Jest processes on the library's src/ (see childJest.ts):
 * - the same test, run 20 times (each in a fresh folder, a fresh redis-server, a random insertion order,
 *   at a different moment), writes byte-identical snapshot files;
 * - a keyspace that changed fails with Jest's own diff, one case per kind of change.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { failureMessage, newProject, runFixture, snapshotFile } from './childJest';

jest.setTimeout(240_000);

const dirs: string[] = [];
function project(): string {
  const dir = newProject();
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The body of each `exports[...]` entry of a snapshot file. */
function entries(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of file.matchAll(/^exports\[`(.+?)`\] = `\n([\s\S]*?)\n`;$/gm)) out[m[1]!] = m[2]!;
  return out;
}

it('the same snapshot-writing test, run 20 times, writes byte-identical snapshot files', async () => {
  const files: Buffer[] = [];
  // Two runs at a time (each has its own folder and its own redis-server).
  for (let run = 0; run < 20; run += 2) {
    const pair = [project(), project()];
    const results = await Promise.all(pair.map((dir) => runFixture(dir, 'base', true)));
    results.forEach((result, i) => {
      expect({ run: run + i, code: result.code, output: result.code === 0 ? '' : result.stderr }).toEqual({ run: run + i, code: 0, output: '' });
    });
    files.push(...pair.map(snapshotFile));
  }
  expect(files).toHaveLength(20);
  for (let run = 1; run < files.length; run++) {
    expect({ run, identical: files[run]!.equals(files[0]!) }).toEqual({ run, identical: true });
  }
  // What was compared is a real keyspace, and the three ways of taking it agree.
  const snaps = entries(files[0]!.toString('utf8'));
  expect(Object.keys(snaps).sort()).toEqual(['keyspace 1', 'keyspace: captureKeyspace 1', 'keyspace: node-redis 1']);
  expect(snaps['keyspace: node-redis 1']).toBe(snaps['keyspace 1']);
  expect(snaps['keyspace: captureKeyspace 1']).toBe(snaps['keyspace 1']);
  const body = snaps['keyspace 1']!;
  for (const expected of [
    '"user:1" (string, expires in ≤ 1h) {',
    '"session:abc" (string, expires in ≤ 10m) [REDACTED],',
    '"ttl:day" (string, expires in ≤ 1d) "d",',
    '"events" (stream) [\n    #1 {',
    '"audit" (stream) [\n    5-1 {',
    'b"bin\\\\xff" (string) b"\\\\x00\\\\xfeA\\\\n",',
    '"multi" (string) "line one\\\\r\nline two\nend\\\\ttab",',
    '-inf "floor",\n    1 "alice",\n    1 "bob",',
  ]) {
    expect(body).toContain(expected);
  }
  expect(body).not.toContain('secret-token');
});

describe('a keyspace that no longer matches its snapshot fails with a readable diff', () => {
  let dir: string;
  let written: Buffer;
  beforeAll(async () => {
    dir = project();
    const result = await runFixture(dir, 'base', true);
    expect(result.code).toBe(0);
    written = snapshotFile(dir);
  });

  it.each(['changed-value', 'missing-key', 'extra-key', 'changed-ttl'])('%s', async (mode) => {
    const result = await runFixture(dir, mode, false);
    expect(result.code).toBe(1);
    expect(failureMessage(result.stderr)).toMatchSnapshot();
    expect(snapshotFile(dir).equals(written)).toBe(true); // --ci: nothing rewritten
  });

  it('the same keyspace passes (the cases above fail because of their change only)', async () => {
    const result = await runFixture(dir, 'base', false);
    expect({ code: result.code, output: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, output: '' });
  });
});

it('a huge value: whole in the snapshot file, cut around the change in the failure message', async () => {
  const dir = project();
  expect((await runFixture(dir, 'huge-base', true)).code).toBe(0);
  const file = readFileSync(join(dir, '__snapshots__', 'keyspace.test.js.snap'), 'utf8');
  expect(file).toContain(`"blob" (string) "${'x'.repeat(150_000)}"`);
  const result = await runFixture(dir, 'huge-changed', false);
  expect(result.code).toBe(1);
  const message = failureMessage(result.stderr);
  expect(message.length).toBeLessThan(5_000);
  expect(message).toMatchSnapshot();
});
