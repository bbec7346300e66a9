import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * The watchdog is a tiny detached Node process holding the read end of a pipe from the Jest process.
 * However Jest ends (normal exit, SIGINT, SIGTERM, SIGKILL, a crash), the kernel closes that pipe, the
 * watchdog reads end-of-file and SIGKILLs every server it was told about. No polling, no timers.
 *
 * Protocol on stdin: lines "add <pid>" and "remove <pid>".
 */
const WATCHDOG_SOURCE = String.raw`
const pids = new Set();
let buf = '';
const killAll = () => { for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} } process.exit(0); };
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const [cmd, arg] = buf.slice(0, i).split(' ');
    buf = buf.slice(i + 1);
    const pid = Number(arg);
    if (cmd === 'add') pids.add(pid);
    else if (cmd === 'remove') pids.delete(pid);
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
`;

export interface Watchdog {
  readonly pid: number;
  watch(pid: number): void;
  unwatch(pid: number): void;
  /** Ends the watchdog; it kills whatever is still watched. */
  close(): Promise<void>;
}

export function startWatchdog(): Watchdog {
  const child: ChildProcess = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const stdin = child.stdin as Writable;
  stdin.on('error', () => {});
  child.unref();
  (stdin as unknown as Socket).unref?.();
  const exited = new Promise<void>((res) => {
    if (child.exitCode !== null) res();
    child.once('exit', () => res());
  });
  return {
    pid: child.pid!,
    watch: (pid) => void stdin.write(`add ${pid}\n`),
    unwatch: (pid) => void stdin.write(`remove ${pid}\n`),
    async close() {
      // Hold the event loop while waiting: an unref'd child alone would let Node exit mid-await.
      child.ref();
      stdin.end();
      await exited;
    },
  };
}
