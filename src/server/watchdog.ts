import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/**
 * The watchdog is a tiny detached process holding the read end of a pipe from the Jest process. However
 * Jest ends (normal exit, SIGINT, SIGTERM, SIGKILL, a crash), the kernel closes that pipe, the watchdog reads
 * end-of-file, SIGKILLs every server it was told about and deletes the folders it was given. No polling.
 *
 * Protocol on stdin: lines "add <pid>", "remove <pid>", "dir <path>"; and for work only Node can do (dropping
 * the per-worker databases on a real server): "node <node binary>", "script <path>", "input <line>" (a line for
 * that script's stdin), "noinput" (forget them: the work was done). At the end, after the kills and deletions, it
 * runs `node script` with the input lines, if there are any, and exits when that script has. It is a POSIX shell
 * script (about 1 ms to start, versus ~40 ms of CPU for a Node process on the test runner's critical path); Node
 * is the fallback where there is no /bin/sh.
 */
const SH_SOURCE = String.raw`
trap '' INT HUP TERM
pids=" "
dirs=""
node=""
script=""
inputs=""
while IFS=' ' read -r cmd arg; do
  case "$cmd" in
    add) pids="$pids$arg " ;;
    remove) pids=$(printf '%s' "$pids" | sed "s/ $arg / /") ;;
    dir) dirs="$dirs
$arg" ;;
    node) node="$arg" ;;
    script) script="$arg" ;;
    input) inputs="$inputs$arg
" ;;
    noinput) inputs="" ;;
  esac
done
for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
printf '%s\n' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf "$d"; done
[ -n "$inputs" ] && [ -n "$node" ] && [ -n "$script" ] && printf '%s' "$inputs" | "$node" "$script" >/dev/null 2>&1
exit 0
`;

const NODE_SOURCE = String.raw`
const pids = new Set();
const dirs = new Set();
let node = '';
let script = '';
let inputs = [];
let buf = '';
const killAll = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  for (const dir of dirs) { try { require('fs').rmSync(dir, { recursive: true, force: true }); } catch {} }
  if (inputs.length && node && script) {
    try { require('child_process').spawnSync(node, [script], { input: inputs.join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] }); } catch {}
  }
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const cmd = line.slice(0, line.indexOf(' '));
    const arg = line.slice(line.indexOf(' ') + 1);
    if (cmd === 'add') pids.add(Number(arg));
    else if (cmd === 'remove') pids.delete(Number(arg));
    else if (cmd === 'dir') dirs.add(arg);
    else if (cmd === 'node') node = arg;
    else if (cmd === 'script') script = arg;
    else if (cmd === 'input') inputs.push(arg);
    else if (line === 'noinput') inputs = [];
  }
});
process.stdin.on('end', killAll);
process.stdin.on('error', killAll);
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(s, () => {});
`;

export interface Watchdog {
  readonly pid: number;
  watch(pid: number): void;
  unwatch(pid: number): void;
  /** Deletes this folder when the watchdog ends (a killed run leaves no socket files behind). */
  removeOnExit(dir: string): void;
  /**
   * When the watchdog ends, runs the Node script `script` (this process's Node binary) with `line` on its stdin,
   * after the kills and deletions; lines of several calls go to one run of the last script given. The watchdog
   * exits once the script has. `line` must not contain a newline.
   */
  runOnExit(script: string, line: string): void;
  /** Forgets the lines of runOnExit (their work was done): the script does not run. */
  cancelRunOnExit(): void;
  /**
   * Ends the watchdog: it kills whatever is still watched and exits on its own. Does not wait for that
   * (nothing is left for it to do once the servers were stopped).
   */
  close(): void;
  /** Resolves when the watchdog process has exited (after its kills and deletions). */
  readonly exited: Promise<void>;
}

export function startWatchdog(): Watchdog {
  const [command, args] = existsSync('/bin/sh')
    ? ['/bin/sh', ['-c', SH_SOURCE]]
    : [process.execPath, ['-e', NODE_SOURCE]];
  const child: ChildProcess = spawn(command, args, {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const stdin = child.stdin as Writable;
  stdin.on('error', () => {});
  const exited = new Promise<void>((res) => {
    child.once('exit', () => res());
    child.once('error', () => res());
  });
  child.unref();
  (stdin as unknown as Socket).unref?.();
  return {
    pid: child.pid!,
    watch: (pid) => void stdin.write(`add ${pid}\n`),
    unwatch: (pid) => void stdin.write(`remove ${pid}\n`),
    removeOnExit: (dir) => void stdin.write(`dir ${dir}\n`),
    runOnExit: (script, line) => void stdin.write(`node ${process.execPath}\nscript ${script}\ninput ${line}\n`),
    cancelRunOnExit: () => void stdin.write('noinput\n'),
    close: () => void stdin.end(),
    exited,
  };
}
