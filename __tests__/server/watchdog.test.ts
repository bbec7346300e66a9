import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
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
