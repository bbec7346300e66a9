import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
export const JEST_BIN = join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');

/** The environment a fresh Jest run should see: none of this worker's own preset state. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('JEST_')) delete env[key];
  delete env.NODE_OPTIONS;
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Finished>;
}

/**
 * A Jest config (as JSON for `--config`) that runs `dir`'s `*.test.js` files under the preset from this
 * repository's src/ (through ts-jest), as the library's own tests do; `extra` adds or overrides keys.
 */
export function srcPresetConfig(dir: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    rootDir: dir,
    testEnvironment: join(REPO, 'src/preset/environment.ts'),
    globalSetup: join(REPO, 'src/preset/globalSetup.ts'),
    globalTeardown: join(REPO, 'src/preset/globalTeardown.ts'),
    setupFilesAfterEnv: [join(REPO, 'src/setup.ts')],
    transform: { '^.+\\.tsx?$': [require.resolve('ts-jest'), { tsconfig: join(REPO, 'tsconfig.json') }] },
    testMatch: ['<rootDir>/*.test.js'],
    modulePaths: [join(REPO, 'node_modules')],
    ...extra,
  });
}

export function spawnJest(cwd: string, args: string[], env: Record<string, string> = {}, jestBin = JEST_BIN): Running {
  const child = spawn(process.execPath, [jestBin, '--ci', ...args], { cwd, env: cleanEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Finished>((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Resolves once `file` exists (fs.watch on its folder: the real signal, no polling). */
export function waitForFile(file: string, orProcess?: Running): Promise<void> {
  return new Promise((res, rej) => {
    const dir = dirname(file);
    const name = basename(file);
    const watcher = watch(dir, (_event, changed) => {
      if (changed === name && existsSync(file)) finish();
    });
    const finish = (err?: Error) => {
      watcher.close();
      if (err) rej(err);
      else res();
    };
    orProcess?.done.then((r) =>
      existsSync(file) ? finish() : finish(new Error(`process ended before writing ${file}:\n${r.stdout}\n${r.stderr}`)),
    );
    if (existsSync(file)) finish();
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent died stays a zombie until init reaps it (here: up to ~2 s): it is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill 0
  }
}

/**
 * Waits for processes that are not our children to exit. There is no event for that in Node, so this polls
 * the kernel (kill 0) until they are gone or `withinMs` has passed; returns those still alive.
 */
export async function waitForExit(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 25));
  }
}
