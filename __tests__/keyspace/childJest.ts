/** Runs the keyspace fixture in a child Jest process, in a folder of its own, on the library's src/. */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, spawnJest, srcPresetConfig, type Finished } from '../helpers/processes';

export const FIXTURE = join(REPO, '__tests__', 'keyspace', 'fixtures', 'keyspace.test.js');

export function newProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-keyspace-'));
  copyFileSync(FIXTURE, join(dir, 'keyspace.test.js'));
  return dir;
}

/** `update`: write snapshots (a first run); otherwise `--ci`: a mismatch fails and nothing is written. */
export function runFixture(dir: string, mode: string, update: boolean): Promise<Finished> {
  const args = ['--config', srcPresetConfig(dir), '--runInBand', update ? '--ci=false' : '--ci'];
  return spawnJest(dir, args, { MODE: mode, JCC_SRC: join(REPO, 'src', 'index.ts') }).done;
}

export function snapshotFile(dir: string): Buffer {
  const snaps = join(dir, '__snapshots__');
  const files = readdirSync(snaps);
  if (files.length !== 1) throw new Error(`expected one snapshot file in ${snaps}, found ${files.join(', ')}`);
  return readFileSync(join(snaps, files[0]!));
}

/**
 * The failure message of the fixture's test as Jest printed it: from the matcher hint to the code frame,
 * de-indented (colour is off in child runs: FORCE_COLOR=0).
 */
export function failureMessage(output: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.includes('expect(received).toMatch'));
  if (start < 0) throw new Error(`no matcher failure in the output:\n${output}`);
  let end = start + 1;
  while (end < lines.length && !/^\s+(>?\s*\d+ \||at )/.test(lines[end]!)) end++;
  const block = lines.slice(start, end);
  const pad = /^\s*/.exec(block[0]!)![0].length;
  // eslint-disable-next-line no-control-regex
  return block.map((l) => l.slice(pad).replace(/\u001b\[[0-9;]*m/g, '')).join('\n').trimEnd();
}
