/**
 * No redis-server the preset started survives the Jest run, however the run ends. Each case runs Jest in a
 * child process on a fixture project that uses the built preset, records the pids of every server, then
 * checks the kernel no longer knows them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, REPO, spawnJest, waitForExit, waitForFile, type Running } from '../helpers/processes';

const FIXTURE = join(REPO, '__tests__', 'fixtures', 'lifecycle');
jest.setTimeout(60_000);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jcc-lifecycle-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(mode: string, extraArgs: string[] = []): { running: Running; pidFile: string } {
  const pidFile = join(dir, 'pids.json');
  const running = spawnJest(FIXTURE, ['--no-cache', ...extraArgs], { MODE: mode, PID_FILE: pidFile });
  return { running, pidFile };
}

let sockets: string[] = [];
let watchdog = 0;
/** The Jest worker process that ran the fixture's test. */
let worker = 0;

async function recordedServers(pidFile: string, running: Running): Promise<number[]> {
  await waitForFile(pidFile, running);
  const recorded = JSON.parse(readFileSync(pidFile, 'utf8')) as { pids: number[]; sockets: string[]; watchdog: number; worker: number };
  watchdog = recorded.watchdog;
  worker = recorded.worker;
  expect(watchdog).toBeGreaterThan(0);
  expect(recorded.pids.length).toBeGreaterThan(0);
  expect(recorded.sockets).toHaveLength(recorded.pids.length);
  sockets = recorded.sockets;
  return recorded.pids;
}

/** The unix sockets' private folder is gone too (the watchdog deletes it when Jest was killed). */
function socketsLeft(): string[] {
  return sockets.filter((s) => existsSync(s) || existsSync(join(s, '..')));
}

it.each([
  ['pass', 0],
  ['fail', 1],
])('after a run that ends with %s, every server is gone', async (mode, exitCode) => {
  const { running, pidFile } = run(mode, ['--maxWorkers=2']);
  const result = await running.done;
  const pids = await recordedServers(pidFile, running);
  expect(pids).toHaveLength(2); // one per worker
  expect(result.code).toBe(exitCode);
  // globalTeardown awaited each server's exit: nothing to wait for.
  expect(await waitForExit(pids, 0)).toEqual([]);
  // The watchdog was told to end; it exits on its own, without holding Jest up.
  expect(await waitForExit([watchdog], 5000)).toEqual([]);
  expect(socketsLeft()).toEqual([]);
});

it('after a crashed worker, every server is gone and the run reports the crash', async () => {
  const { running, pidFile } = run('crash', ['--maxWorkers=2']);
  const pids = await recordedServers(pidFile, running);
  const result = await running.done;
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/lifecycle\.test\.js/);
  expect(await waitForExit(pids, 0)).toEqual([]);
});

it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)(
  'after %s to the Jest process, the watchdog ends every server within a few seconds',
  async (signal) => {
    const { running, pidFile } = run('hang', ['--maxWorkers=2']);
    const pids = await recordedServers(pidFile, running);
    expect(pids).toHaveLength(2);
    running.child.kill(signal);
    const result = await running.done;
    expect(result.code === null ? result.signal : result.code).toBeTruthy();
    expect(await waitForExit(pids, 5000)).toEqual([]);
    // The watchdog deletes the folder right after killing the servers; its own exit is the signal.
    expect(await waitForExit([watchdog], 5000)).toEqual([]);
    expect(socketsLeft()).toEqual([]);
  },
);

// Jest does not end its worker processes when the Jest process itself is killed: the one running the hanging
// test would stay until that test's timeout (10 minutes in the fixture), then die reporting to a parent that is
// gone. Not the library's to change; the test ends what it caused.
afterEach(() => {
  if (worker > 0 && isAlive(worker)) process.kill(worker, 'SIGKILL');
  worker = 0;
});
