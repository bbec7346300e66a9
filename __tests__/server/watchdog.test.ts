import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWatchdog } from '../../src/server/watchdog';

function sleeper() {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  const exit = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_code, signal) => res(signal)));
  return { child, exit };
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

it('kills what it watches and deletes its folders when its pipe closes, and spares what was unwatched', async () => {
  const dog = startWatchdog();
  const watched = sleeper();
  const unwatched = sleeper();
  cleanups.push(() => (watched.child.kill(), unwatched.child.kill()));
  const dir = mkdtempSync(join(tmpdir(), 'jcc-dog-'));
  writeFileSync(join(dir, 'a.sock'), '');
  dog.watch(watched.child.pid!);
  dog.watch(unwatched.child.pid!);
  dog.unwatch(unwatched.child.pid!);
  dog.removeOnExit(dir);
  dog.close();
  await dog.exited;
  expect(await watched.exit).toBe('SIGKILL');
  expect(existsSync(dir)).toBe(false);
  expect(unwatched.child.exitCode).toBeNull();
  expect(unwatched.child.signalCode).toBeNull();
  unwatched.child.kill();
  await unwatched.exit;
});

it('at its end runs the Node script given with the lines given on its stdin (the databases to drop), unless told to forget them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-dog-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'record.js');
  writeFileSync(script, `let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => require('fs').writeFileSync(${JSON.stringify(join(dir, 'got'))}, s));`);
  const dog = startWatchdog();
  dog.runOnExit(script, '{"name":"a b"}');
  dog.runOnExit(script, '{"name":"c"}');
  dog.close();
  await dog.exited; // it exits once the script has
  expect(readFileSync(join(dir, 'got'), 'utf8')).toBe('{"name":"a b"}\n{"name":"c"}\n');

  rmSync(join(dir, 'got'));
  const done = startWatchdog();
  done.runOnExit(script, '{"name":"a"}');
  done.cancelRunOnExit();
  done.close();
  await done.exited;
  expect(existsSync(join(dir, 'got'))).toBe(false);
});
