import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, realpathSync, rmSync, statfsSync, statSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerOwnServer, unregisterOwnServer } from './ownServers';
import { RedisServerStartError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';

export interface StartRedisServerOptions {
  binary: string;
  /**
   * Extra arguments appended after ours. Those the library chooses itself (LIBRARY_CHOSEN_ARGS: `--port`,
   * `--bind`, `--daemonize`, `--unixsocket`) are refused: a later one would win, and readiness would then wait
   * on the wrong address. So are those requiring a password (AUTH_ARGS): readiness sends none.
   */
  args?: readonly string[];
  /** How long to wait for the first PING reply. Default 10 000 ms. */
  startTimeoutMs?: number;
  /** Attempts when the chosen port was taken between choosing and binding. Default 8. */
  portAttempts?: number;
  /**
   * Also listen on this unix socket (at most 103 bytes, else refused). Loopback TCP stays on for `redisUrl()`; the socket
   * is what the library's own connections use: about a quarter less latency per command.
   */
  unixSocket?: string;
  /**
   * Start a Redis Cluster node: cluster mode on, its nodes file in `configDir`, a cluster bus port chosen free
   * like the main port (a collision on either is retried), announcing 127.0.0.1.
   */
  cluster?: { configDir: string };
  /**
   * Called with the pid right after each spawn, before readiness (hand it to a watchdog, so a runner killed
   * during start-up leaves nothing behind); `onExit` with the same pid when that attempt's process is gone.
   */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
  /** How to choose a port to try. Default: one the OS reports free right now. (Tests inject collisions.) */
  choosePort?: () => Promise<number>;
}

/** The known keys of startRedisServer's options (the type keeps them complete). */
const START_OPTION_KEYS = optionKeys<StartRedisServerOptions>({
  binary: true, args: true, startTimeoutMs: true, portAttempts: true, unixSocket: true, cluster: true, onSpawn: true, onExit: true, choosePort: true,
});

export interface RedisServer {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** The unix socket path, when started with `unixSocket`. */
  readonly socket: string | undefined;
  /** The cluster bus port, when started with `cluster`. */
  readonly busPort: number | undefined;
  readonly binary: string;
  /** The server's `run_id` (INFO server), which tells it from any other server. */
  readonly runId: string;
  /**
   * Its working folder (`--dir`), private to it and removed when it exits: in /dev/shm when it has 1 GiB free (a
   * keyspace capture's SAVE then costs no disk write), else in the OS's temporary folder.
   */
  readonly dir: string;
  /** Resolves once the process has exited. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Directives startRedisServer sets itself and refuses in `args` (the preset's option validation uses it too). */
export const LIBRARY_CHOSEN_ARGS: readonly string[] = ['--port', '--bind', '--daemonize', '--unixsocket'];
/** Directives that can make the server require a password: the readiness PING (and the library's connections) send none. */
export const AUTH_ARGS: readonly string[] = ['--requirepass', '--aclfile', '--user'];
/** Longest unix socket path every OS takes (sun_path: 104 bytes on macOS, 108 on Linux, with its terminating 0). */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The directive an argument names, lowercased: redis-server takes `--port 7000` as one argument as well as two,
 * and its directive names ignore case. '' for an argument that is a value.
 */
function directive(arg: string): string {
  return arg.startsWith('--') ? arg.trim().split(/\s+/)[0]!.toLowerCase() : '';
}

/** The first of `args` that names one of `directives`. */
export function argNaming(args: readonly string[], directives: readonly string[]): string | undefined {
  return args.find((a) => directives.includes(directive(a)));
}

/** An argument that can give the `default` user (the one a plain PING uses) a password. */
function defaultUserPassword(args: readonly string[]): string | undefined {
  return args.find((a, i) => {
    const d = directive(a);
    if (d === '--requirepass' || d === '--aclfile') return true;
    if (d !== '--user') return false;
    const name = a.trim().split(/\s+/)[1] ?? args[i + 1];
    return name?.toLowerCase() === 'default';
  });
}

/*
 * Servers this process started and has not seen exit. When the process exits in any way Node still runs code
 * for (the end of the program, process.exit(), an uncaught exception, a broken stdout pipe), they are killed
 * with it: a script or globalSetup of yours that crashes leaves no redis-server behind. SIGKILL runs no code;
 * the preset adds a watchdog process for that.
 */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function killLiveServers(): void {
  for (const [child, dir] of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
    removeDir(dir);
  }
}

function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

function track(child: ChildProcess, dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killLiveServers);
  }
  live.set(child, dir);
  child.once('exit', () => {
    live.delete(child);
    removeDir(dir);
  });
}

let dirBase: string | undefined;

/** Free space /dev/shm must have for servers' folders to go there (Docker's default /dev/shm is only 64 MB). */
const MIN_SHM_FREE_BYTES = 1024 ** 3;

/**
 * Where servers' private folders go: /dev/shm when it is a writable folder with at least 1 GiB free (Linux; a
 * file there costs memory, not a disk write), else the temporary folder.
 */
function privateDirBase(): string {
  if (dirBase === undefined) {
    dirBase = tmpdir();
    try {
      if (statSync('/dev/shm').isDirectory()) {
        accessSync('/dev/shm', constants.W_OK);
        const fs = statfsSync('/dev/shm');
        if (fs.bavail * fs.bsize >= MIN_SHM_FREE_BYTES) dirBase = '/dev/shm';
      }
    } catch {
      /* no /dev/shm */
    }
  }
  return dirBase;
}

/** A port that was free a moment ago. Racy across processes by nature; startRedisServer retries. */
export function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

class PortTakenError extends Error {}

/**
 * Spawns redis-server on loopback with persistence off, and resolves once *this* process answers PING
 * (checked through `INFO server`'s process_id, so a server another Jest process started on the same port
 * is never mistaken for ours). The server never keeps this process alive, and is killed when it exits
 * (docs/servers.md).
 */
export async function startRedisServer(options: StartRedisServerOptions): Promise<RedisServer> {
  const args = options.args ?? [];
  const refuse = (reason: string) => new RedisServerStartError(options.binary, [...args], reason, '', { refused: true });
  const unknown = findUnknownKey(options, START_OPTION_KEYS);
  if (unknown) throw refuse(`options.${unknown.key}: ${unknown.problem}`);
  const chosen = argNaming(args, LIBRARY_CHOSEN_ARGS);
  if (chosen) {
    throw refuse(
      `${chosen} in args: the library sets it (127.0.0.1 only, a port it finds free, no daemon, the unixSocket option's path), and a later one would win, so readiness would wait on the wrong address. Remove it.`,
    );
  }
  const auth = defaultUserPassword(args);
  if (auth) {
    throw refuse(
      `${auth} in args: it can give the default user a password, and readiness is a PING without one. Remove it (set a password afterwards with CONFIG SET if you need one).`,
    );
  }
  if (options.unixSocket && Buffer.byteLength(options.unixSocket) > MAX_SOCKET_PATH_BYTES) {
    throw refuse(
      `unixSocket is ${Buffer.byteLength(options.unixSocket)} bytes long; a unix socket path must be at most ${MAX_SOCKET_PATH_BYTES} (macOS) and older Redis cuts a longer one short without a word. Choose a shorter path.`,
    );
  }
  const attempts = options.portAttempts ?? 8;
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = await (options.choosePort ?? findFreePort)();
    const busPort = options.cluster ? await findFreePort() : undefined;
    try {
      return await startOnPort(options, port, busPort);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      last = err;
    }
  }
  throw new RedisServerStartError(options.binary, [], `no free port after ${attempts} attempts`, String(last));
}

function serverArgs(port: number, extra: readonly string[], unixSocket: string | undefined, dir: string): string[] {
  return [
    ...(unixSocket ? ['--unixsocket', unixSocket, '--unixsocketperm', '700'] : []),
    '--port', String(port),
    '--bind', HOST,
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--dir', dir,
    // Only a keyspace capture's SAVE writes a file here (read at once, then deleted): the fastest file to write.
    '--rdbcompression', 'no',
    '--rdbchecksum', 'no',
    '--loglevel', 'warning',
    '--logfile', '',
    ...extra,
  ];
}

function clusterArgs(port: number, busPort: number, configDir: string): string[] {
  return [
    '--cluster-enabled', 'yes',
    '--cluster-config-file', join(configDir, `nodes-${port}.conf`),
    '--cluster-port', String(busPort),
    // Without it a node may not know its own address, and CLUSTER SLOTS would name it "".
    '--cluster-announce-ip', HOST,
  ];
}

async function startOnPort(options: StartRedisServerOptions, port: number, busPort?: number): Promise<RedisServer> {
  const extra = options.cluster && busPort ? [...clusterArgs(port, busPort, options.cluster.configDir), ...(options.args ?? [])] : options.args ?? [];
  // Its real path: what the server reports (CONFIG GET dir) once it has chdir'ed there.
  const dir = realpathSync(mkdtempSync(join(privateDirBase(), 'jcc-redis-')));
  const args = serverArgs(port, extra, options.unixSocket, dir);
  let child: ChildProcess;
  try {
    child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    removeDir(dir);
    throw err;
  }
  track(child, dir);
  if (child.pid !== undefined) {
    const pid = child.pid;
    options.onSpawn?.(pid);
    child.once('exit', () => options.onExit?.(pid));
  }
  let output = '';
  const collect = (b: Buffer) => {
    output = (output + b.toString('utf8')).slice(-8000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((res) => {
    child.once('exit', (code, signal) => res({ code, signal }));
    child.once('error', (error) => res({ code: null, signal: null, error }));
  });

  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let stopped = false;
  exited.then(() => {
    stopped = true;
  });

  const fail = async (reason: string): Promise<never> => {
    if (!stopped) {
      child.kill('SIGKILL');
      await exited;
    }
    throw new RedisServerStartError(options.binary, args, reason, output);
  };

  let runId = '';
  // Wait for the real signal: a PING answered by this very process. Between refused connections we wait
  // for whichever comes first: the process exiting, or 1 ms (Node's shortest timer). A server is usually up
  // within ~8 ms and a refused connect costs ~0.1 ms: a longer or growing pause only notices it later
  // (a 1-2-4 ms back-off measured ~2 ms slower to ready in bench/boot.js (a)).
  for (;;) {
    if (stopped) {
      const { code, signal, error } = await exited;
      if (/Address already in use/i.test(output)) throw new PortTakenError(output);
      return fail(error ? error.message : `process exited (code ${code}, signal ${signal}) before answering PING`);
    }
    if (Date.now() > deadline) return fail(`no PING reply within ${timeoutMs} ms`);
    const reply = await identify(port).catch(() => undefined);
    if (reply !== undefined) {
      if (reply.pid === child.pid) {
        runId = reply.runId;
        break;
      }
      // Another process answers on this port: ours cannot bind it and will exit. Wait for that, then retry.
      await exitedOrElapsed(exited, Math.max(0, deadline - Date.now()));
      if (!stopped) return fail(`port ${port} is answered by another redis-server (pid ${reply.pid})`);
      throw new PortTakenError(`port ${port} taken by pid ${reply.pid}`);
    }
    await exitedOrElapsed(exited, 1);
  }

  const proc: ChildProcess = child;
  proc.stdout!.removeAllListeners('data');
  proc.stderr!.removeAllListeners('data');
  proc.stdout!.resume();
  proc.stderr!.resume();
  // The server must never keep the test runner alive on its own.
  proc.unref();
  (proc.stdout as Socket).unref?.();
  (proc.stderr as Socket).unref?.();
  // A keyspace capture may SAVE into its private folder (never on a server the library did not start).
  if (runId) {
    registerOwnServer({ runId, dir });
    child.once('exit', () => unregisterOwnServer(runId));
  }

  return {
    pid: child.pid!,
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    socket: options.unixSocket,
    busPort,
    binary: options.binary,
    runId,
    dir,
    async stop() {
      if (stopped) return;
      // Hold the event loop while waiting: an unref'd child alone would let Node exit mid-await.
      child.ref();
      // SIGKILL, not SIGTERM: Redis acts on SIGTERM only in its next serverCron tick (hz 10: up to 100 ms,
      // measured 102 ms), and a server with persistence off has nothing to save. Measured ~2 ms.
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Whichever comes first; the timer never outlives the wait. */
async function exitedOrElapsed(exited: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** PING, then INFO server; resolves with the process_id of whoever answered. Rejects on connection errors. */
export async function pingAndIdentify(port: number, host = HOST): Promise<number> {
  return (await identify(port, host)).pid;
}

/** PING, then INFO server: the process_id and run_id of whoever answered. Rejects on connection errors. */
function identify(port: number, host = HOST): Promise<{ pid: number; runId: string }> {
  return new Promise((resolveId, reject) => {
    const sock = connect({ port, host });
    let buf = '';
    const done = (err?: Error, id?: { pid: number; runId: string }) => {
      sock.destroy();
      if (err) reject(err);
      else resolveId(id!);
    };
    sock.setTimeout(2000, () => done(new Error('timeout')));
    sock.once('error', (e) => done(e));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.startsWith('-')) return done(new Error(buf.trim()));
      if (!buf.startsWith('+PONG\r\n')) {
        if (buf.length >= 7) done(new Error(`unexpected reply ${JSON.stringify(buf.slice(0, 40))}`));
        return;
      }
      // The whole INFO reply: a bulk string ending in CRLF after its announced length.
      const header = /^\+PONG\r\n\$(\d+)\r\n/.exec(buf);
      if (!header || Buffer.byteLength(buf, 'latin1') < header[0].length + Number(header[1]) + 2) return;
      const pid = /process_id:(\d+)\r\n/.exec(buf);
      const runId = /run_id:([0-9a-f]+)\r\n/.exec(buf);
      if (pid) done(undefined, { pid: Number(pid[1]), runId: runId?.[1] ?? '' });
      else done(new Error('INFO server without process_id'));
    });
    sock.once('connect', () => sock.write('PING\r\nINFO server\r\n'));
  });
}
