/**
 * Redis instrumentation: each actor gets its own connection (ioredis `duplicate()`, node-redis
 * `duplicate()` + `connect()`), and every command on it, every pipeline or MULTI/EXEC (one step), and every
 * Lua `EVAL`/`EVALSHA` becomes one step. The patch is per instance: the client keeps its class, its types and
 * every method; only the path a command takes to the socket passes through the actor's controller first.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { getKeyIndexes, hasFlag } from '@ioredis/commands';
import type { RedisClientKind } from '../../redis/adapter';
import { redisClientKind } from '../../redis/toRedisAdapter';
import { currentActor, type ActorLink } from './actorLink';
import { markBound } from './bound';
import { formatOutcome, formatRedisCommand, formatRedisReply, redisText } from './labels';
import type { StepInfo, StepOutcome, StepRequest } from '../step';

export type { RedisClientKind } from '../../redis/adapter';
/** Which client library a client comes from: the one recogniser, shared with the adapters (src/redis/). */
export { redisClientKind };

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'fcall']);

/** Where one command's keys are among its arguments; undefined when that cannot be told (an unknown command). */
export function keyIndexes(name: string, args: readonly unknown[]): number[] | undefined {
  try {
    return getKeyIndexes(name.toLowerCase(), args as Array<string | Buffer | number>);
  } catch {
    return undefined;
  }
}

/** The keys one command reads and writes; `known` is false when its key positions cannot be told. */
export function keysOf(name: string, args: readonly unknown[]): { keys: string[]; writes: string[]; known: boolean } {
  const indexes = keyIndexes(name, args);
  if (!indexes) return { keys: [], writes: [], known: false };
  const lower = name.toLowerCase();
  const keys = indexes.map((i) => redisText(args[i]));
  const writes = hasFlagSafe(lower, 'write') || SCRIPT_COMMANDS.has(lower) ? keys : [];
  return { keys, writes, known: true };
}

function hasFlagSafe(name: string, flag: string): boolean {
  try {
    return hasFlag(name, flag);
  } catch {
    return false;
  }
}

export function redisStepInfo(actor: string, name: string, args: readonly unknown[]): StepInfo {
  const command = name.toUpperCase();
  const { keys, writes } = keysOf(name, args);
  return {
    actor,
    kind: 'redis',
    command,
    args: args.map(redisText),
    keys,
    writes,
    description: `redis ${formatRedisCommand(command, args)}`,
  };
}

export function redisBatchInfo(actor: string, kind: 'MULTI' | 'PIPELINE', commands: ReadonlyArray<readonly [string, ...unknown[]]>): StepInfo {
  const keys = new Set<string>();
  const writes = new Set<string>();
  for (const [name, ...args] of commands) {
    const k = keysOf(name, args);
    k.keys.forEach((x) => keys.add(x));
    k.writes.forEach((x) => writes.add(x));
  }
  const batch = commands.map(([name, ...args]) => [name.toUpperCase(), ...args.map(redisText)] as [string, ...unknown[]]);
  return {
    actor,
    kind: 'redis',
    command: kind,
    args: [],
    keys: [...keys],
    writes: [...writes],
    batch,
    description: `redis ${kind} ${commands.map(([name, ...args]) => formatRedisCommand(name, args)).join('; ')}`,
  };
}

const describeReply = (outcome: StepOutcome) => formatOutcome(outcome, (v) => formatRedisReply(v));
const describeBatchReply = (outcome: StepOutcome) =>
  formatOutcome(outcome, (v) =>
    formatRedisReply(Array.isArray(v) ? v.map((pair) => (Array.isArray(pair) && pair.length === 2 && (pair[0] === null || pair[0] instanceof Error) ? (pair[0] ?? pair[1]) : pair)) : v),
  );

/* ------------------------------------------------------------------------------------------------ ioredis */

interface IoredisCommand {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface IoredisPipeline {
  _queue: IoredisCommand[];
  promise: Promise<unknown>;
  exec: (...args: unknown[]) => Promise<unknown>;
}

interface IoredisLike {
  /** A Cluster's takes a third argument: the node a pipeline goes to. */
  sendCommand(command: IoredisCommand, stream?: unknown, node?: unknown): Promise<unknown>;
  pipeline(...args: unknown[]): IoredisPipeline;
  multi(...args: unknown[]): IoredisPipeline;
}

/** Commands the scheduler already let through: when ioredis re-sends them (offline queue), they pass. */
const granted = new WeakSet<object>();

/**
 * Patches one ioredis client so that every command it sends while `route()` names an actor is a step of
 * that actor. `route` returns the actor's link and the client the command must go to (the actor's own
 * connection), or undefined to let the command through untouched.
 */
export function instrumentIoredis(
  client: object,
  route: () => { link: ActorLink; target: object } | undefined,
  /** What a step waits for before it is sent (the connection opening); undefined once there is nothing to wait for. */
  ready?: () => Promise<void> | undefined,
  onCommand?: (name: string) => void,
): void {
  const c = client as IoredisLike;
  const sendCommand = c.sendCommand;
  const pipeline = c.pipeline;
  const multi = c.multi;

  c.sendCommand = function (this: IoredisLike, command: IoredisCommand, stream?: unknown, node?: unknown): Promise<unknown> {
    // Inside a pipeline's exec (which is itself the step), re-sends of granted commands (a Cluster's offline
    // queue, a redirection): pass, with every argument (a Cluster pipeline names its node).
    if (stream !== undefined || node !== undefined || granted.has(command)) return sendCommand.call(this, command, stream, node);
    const to = route();
    if (!to) return sendCommand.call(this, command, stream, node);
    if (to.target !== client) return (to.target as IoredisLike).sendCommand(command);
    onCommand?.(command.name);
    // The raw reply, before ioredis chains anything (a script's NOSCRIPT retry) onto command.promise.
    let raw!: Promise<unknown>;
    const wrapRaw = () => {
      raw = new Promise<unknown>((resolve, reject) => {
        const res = command.resolve;
        const rej = command.reject;
        command.resolve = (value) => {
          res.call(command, value);
          resolve(value);
        };
        command.reject = (error) => {
          rej.call(command, error);
          reject(error);
        };
      });
    };
    const send = () => {
      wrapRaw();
      granted.add(command);
      void sendCommand.call(client as IoredisLike, command).catch(() => {});
      return raw;
    };
    const request: StepRequest = {
      info: redisStepInfo(to.link.name, command.name, command.args),
      // Sent at once when the connection is open (no turn of the microtask queue per step).
      execute: () => {
        const opening = ready?.();
        return opening ? opening.then(send) : send();
      },
      describeResult: describeReply,
      deliver: () => command.promise,
    };
    return to.link.issue(request);
  };

  const wrapBatch = (kind: 'MULTI' | 'PIPELINE', create: (...args: unknown[]) => IoredisPipeline) =>
    function (this: IoredisLike, ...args: unknown[]): IoredisPipeline {
      const to = route();
      if (to && to.target !== client) return kind === 'MULTI' ? (to.target as IoredisLike).multi(...args) : (to.target as IoredisLike).pipeline(...args);
      const p = create.apply(this, args);
      // multi({ pipeline: false }) sends MULTI at once: its commands are steps one by one.
      if (!to || !p || typeof p.exec !== 'function' || !Array.isArray(p._queue)) return p;
      const exec = p.exec;
      const link = to.link;
      let issued = false;
      p.exec = function (this: IoredisPipeline, ...execArgs: unknown[]): Promise<unknown> {
        // ioredis calls exec again itself to retry a Cluster pipeline (MOVED, ASK, TRYAGAIN, ...): that retry
        // is part of the step already running, not a new one.
        if (issued) return exec.apply(p, execArgs);
        issued = true;
        const commands = p._queue
          .filter((cmd) => !(kind === 'MULTI' && (cmd.name === 'multi' || cmd.name === 'exec')))
          .map((cmd) => [cmd.name, ...cmd.args] as [string, ...unknown[]]);
        return link.issue({
          info: redisBatchInfo(link.name, kind, commands),
          execute: async () => {
            if (ready) await ready();
            return exec.apply(p, execArgs);
          },
          describeResult: describeBatchReply,
        });
      };
      return p;
    };
  c.pipeline = wrapBatch('PIPELINE', pipeline);
  c.multi = wrapBatch('MULTI', multi);
}

/* ------------------------------------------------------------------------------------------------ node-redis */

interface NodeRedisInstance {
  sendCommand(args: unknown[], options?: unknown): Promise<unknown>;
  _executeMulti(commands: Array<{ args: unknown[] }>, selectedDB?: number): Promise<unknown>;
  _executePipeline(commands: Array<{ args: unknown[] }>, selectedDB?: number): Promise<unknown>;
}

/** node-redis keeps the real client behind `_self`; commands reach `_self.sendCommand`. */
export function nodeRedisSelf(client: object): NodeRedisInstance {
  return ((client as { _self?: object })._self ?? client) as NodeRedisInstance;
}

export function instrumentNodeRedis(
  client: object,
  route: () => { link: ActorLink; target: object } | undefined,
  ready?: () => Promise<void>,
  onCommand?: (name: string) => void,
): void {
  const self = nodeRedisSelf(client);
  const sendCommand = self.sendCommand;
  const executeMulti = self._executeMulti;
  const executePipeline = self._executePipeline;

  self.sendCommand = function (this: NodeRedisInstance, args: unknown[], options?: unknown): Promise<unknown> {
    const to = route();
    if (!to) return sendCommand.call(this, args, options);
    if (to.target !== client) return nodeRedisSelf(to.target).sendCommand(args, options);
    const [name, ...rest] = args;
    onCommand?.(redisText(name));
    const snapshot = rest.slice();
    return to.link.issue({
      info: redisStepInfo(to.link.name, redisText(name), snapshot),
      execute: async () => {
        if (ready) await ready();
        return sendCommand.call(this, args, options);
      },
      describeResult: describeReply,
    });
  };

  const wrapBatch = (kind: 'MULTI' | 'PIPELINE', run: NodeRedisInstance['_executeMulti']) =>
    function (this: NodeRedisInstance, commands: Array<{ args: unknown[] }>, selectedDB?: number): Promise<unknown> {
      const to = route();
      if (!to) return run.call(this, commands, selectedDB);
      if (to.target !== client) {
        const target = nodeRedisSelf(to.target);
        return (kind === 'MULTI' ? target._executeMulti : target._executePipeline).call(to.target as NodeRedisInstance, commands, selectedDB);
      }
      const list = commands.map(({ args }) => {
        const [name, ...rest] = args;
        return [redisText(name), ...rest] as [string, ...unknown[]];
      });
      return to.link.issue({
        info: redisBatchInfo(to.link.name, kind, list),
        execute: async () => {
          if (ready) await ready();
          return run.call(this, commands, selectedDB);
        },
        describeResult: describeBatchReply,
      });
    };
  self._executeMulti = wrapBatch('MULTI', executeMulti);
  self._executePipeline = wrapBatch('PIPELINE', executePipeline);
}

/* ------------------------------------------------------------------------------------------------ connections */

/**
 * Connection setup runs inside this storage: the commands a client sends on its own while connecting
 * (ioredis' ready check, CLIENT SETNAME, a reconnect's SELECT) carry it, and are never steps.
 */
const housekeeping = new AsyncLocalStorage<true>();
export function isHousekeeping(): boolean {
  return housekeeping.getStore() === true;
}
export function housekeep<T>(fn: () => T): T {
  return housekeeping.run(true, fn);
}

export interface ActorRedisConnection {
  readonly kind: RedisClientKind;
  /** The actor's own client: same library and options as the base client, its own connection. */
  readonly client: object;
  /** Resolves once the connection is ready. */
  ready(): Promise<void>;
  /** After a schedule: drop connection state a step may have left behind (WATCH). */
  tidy(): Promise<void>;
  close(): Promise<void>;
}

/** Opens `link`'s own connection to the server `base` talks to, and instruments it. */
export function openActorRedis(base: object, link: ActorLink): ActorRedisConnection {
  const kind = redisClientKind(base);
  const route = () => (isHousekeeping() ? undefined : { link, target: dup });
  let dup: object;
  // Connection state a step may leave behind (a WATCH, a MULTI never executed): cleared after the schedule.
  let dirty = false;
  const onCommand = (name: string) => {
    const upper = name.toUpperCase();
    if (upper === 'WATCH' || upper === 'MULTI' || upper === 'SUBSCRIBE' || upper === 'SELECT') dirty = true;
  };
  if (kind === 'ioredis' || kind === 'ioredis-cluster') {
    const connectionName = `race:${link.name}`;
    const options = { lazyConnect: true, enableAutoPipelining: false };
    const io = (
      kind === 'ioredis'
        ? (base as { duplicate(o: object): object }).duplicate({ ...options, enableReadyCheck: false, connectionName })
        : // A Cluster: the same startup nodes and options; its node connections carry the name.
          (base as { duplicate(nodes: unknown[], o: object): object; options: { redisOptions?: object } }).duplicate([], {
            ...options,
            redisOptions: { ...(base as { options: { redisOptions?: object } }).options.redisOptions, connectionName },
          })
    ) as {
      status: string;
      connect(): Promise<void>;
      quit(): Promise<unknown>;
      disconnect(): void;
      once(event: string, fn: () => void): void;
      on(event: string, fn: (...a: unknown[]) => void): void;
      call(...args: unknown[]): Promise<unknown>;
      nodes?(role: string): Array<{ status: string; call(...args: unknown[]): Promise<unknown> }>;
    };
    dup = io;
    markBound(io);
    io.on('error', () => {});
    let connecting: Promise<void> | undefined;
    let connected = false;
    const ready = () =>
      (connecting ??= housekeep(() => io.connect()).then(() => {
        connected = true;
      }));
    instrumentIoredis(io, route, () => (connected ? undefined : ready()), onCommand);
    return {
      kind,
      client: io,
      ready,
      async tidy() {
        if (!dirty || io.status !== 'ready') return;
        dirty = false;
        // On a Cluster, WATCH and MULTI live on the connection to one node: tidy every node's.
        const conns = kind === 'ioredis' ? [io] : io.nodes!('all').filter((node) => node.status === 'ready');
        const commands = kind === 'ioredis' ? [['DISCARD'], ['UNWATCH'], ['SELECT', '0']] : [['DISCARD'], ['UNWATCH']];
        await housekeep(() => Promise.allSettled(conns.flatMap((conn) => commands.map((c) => conn.call(...c)))));
      },
      async close() {
        if (io.status === 'end') return;
        // Only a connected client is sure to emit 'end' on disconnect (a Cluster that never reached its
        // nodes stays 'disconnecting'): wait for it there, else just disconnect.
        if (io.status !== 'ready' && io.status !== 'connect') {
          io.disconnect();
          return;
        }
        await new Promise<void>((resolve) => {
          io.once('end', () => resolve());
          io.disconnect();
        });
      },
    };
  }
  if (kind === 'node-redis') {
    const nr = (base as { duplicate(o?: object): object }).duplicate() as {
      connect(): Promise<unknown>;
      close?(): Promise<void>;
      quit?(): Promise<unknown>;
      isOpen: boolean;
      on(event: string, fn: (...a: unknown[]) => void): void;
    };
    dup = nr;
    markBound(nr);
    markBound(nodeRedisSelf(nr));
    nr.on('error', () => {});
    let connecting: Promise<void> | undefined;
    const ready = () => (connecting ??= housekeep(() => nr.connect()).then(() => undefined));
    instrumentNodeRedis(nr, route, ready, onCommand);
    return {
      kind,
      client: nr,
      ready,
      async tidy() {
        if (!dirty || !nr.isOpen) return;
        dirty = false;
        const self = nodeRedisSelf(nr);
        await housekeep(() => Promise.allSettled([self.sendCommand(['DISCARD']), self.sendCommand(['UNWATCH']), self.sendCommand(['SELECT', '0'])]));
      },
      async close() {
        if (connecting) await connecting.catch(() => {});
        if (!nr.isOpen) return;
        await housekeep(() => (nr.close ? nr.close() : nr.quit?.()));
      },
    };
  }
  throw new TypeError('not a Redis client');
}
