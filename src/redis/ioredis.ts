import { RedisConnectionClosedError, RedisUnreachableError } from '../errors';
import {
  scanServer,
  scanServerText,
  toError,
  type RedisAdapter,
  type RedisArg,
  type RedisCommand,
  type RedisReply,
  type ScanOptions,
  type TextReply,
} from './adapter';

/*
 * ioredis, recognised by shape rather than `instanceof` (an application may load its own copy of ioredis).
 * Only the members used here are declared.
 */
interface Emitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

interface IoredisPipelineLike {
  callBuffer(command: string, ...args: RedisArg[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** The ioredis options read here; `keyPrefix` is switched off around each call (see `withoutPrefix`). */
interface PrefixOptions {
  keyPrefix?: string | Buffer;
}

export interface IoredisLike extends Emitter {
  status: string;
  isCluster: boolean;
  options?: PrefixOptions & { host?: string; port?: number; path?: string | null; db?: number };
  callBuffer(command: string, ...args: RedisArg[]): Promise<unknown>;
  call(command: string, ...args: RedisArg[]): Promise<unknown>;
  pipeline(): IoredisPipelineLike;
  connect(): Promise<unknown>;
}

export interface IoredisClusterLike extends Emitter {
  status: string;
  isCluster: boolean;
  options?: PrefixOptions;
  callBuffer(command: string, ...args: RedisArg[]): Promise<unknown>;
  call(command: string, ...args: RedisArg[]): Promise<unknown>;
  nodes(role?: 'all' | 'master' | 'slave'): IoredisLike[];
  connect(): Promise<unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** An ioredis `Redis` instance: `isCluster === false`, `callBuffer`, `pipeline` and a string `status`. */
export function isIoredis(value: unknown): value is IoredisLike {
  return (
    isObject(value) &&
    value.isCluster === false &&
    typeof value.status === 'string' &&
    typeof value.callBuffer === 'function' &&
    typeof value.call === 'function' &&
    typeof value.pipeline === 'function' &&
    typeof value.connect === 'function' &&
    typeof value.on === 'function'
  );
}

/** An ioredis `Cluster` instance: `isCluster === true`, `nodes()`, `callBuffer`. */
export function isIoredisCluster(value: unknown): value is IoredisClusterLike {
  return (
    isObject(value) &&
    value.isCluster === true &&
    typeof value.status === 'string' &&
    typeof value.callBuffer === 'function' &&
    typeof value.call === 'function' &&
    typeof value.nodes === 'function' &&
    typeof value.on === 'function'
  );
}

/**
 * Runs `fn` (which builds ioredis commands synchronously) with the client's keyPrefix switched off, so that
 * full key names go out unchanged. ioredis reads `options.keyPrefix` when it builds each command (its
 * pipelines share the client's options object); JavaScript runs `fn` to completion before anything else.
 */
function withoutPrefix<T>(options: PrefixOptions | undefined, fn: () => T): T {
  const prefix = options?.keyPrefix;
  if (!options || !prefix) return fn();
  options.keyPrefix = undefined;
  try {
    return fn();
  } finally {
    options.keyPrefix = prefix;
  }
}

function prefixBytes(options: PrefixOptions | undefined): Buffer | undefined {
  const prefix = options?.keyPrefix;
  if (!prefix || prefix.length === 0) return undefined;
  return Buffer.isBuffer(prefix) ? prefix : Buffer.from(prefix, 'utf8');
}

/** Waits for `ready`, failing on the first `error` or `end` (ioredis retries forever by default). */
function waitForReady(client: Emitter, describe: () => string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const onError = (...args: unknown[]) => {
      done();
      reject(new RedisUnreachableError(describe(), args[0]));
    };
    const onEnd = () => {
      done();
      reject(new RedisConnectionClosedError(describe()));
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
  });
}

async function ensureIoredisReady(
  client: { status: string; connect(): Promise<unknown> } & Emitter,
  describe: () => string,
): Promise<void> {
  switch (client.status) {
    case 'ready':
      return;
    case 'end':
    case 'close':
      throw new RedisConnectionClosedError(describe());
    case 'wait': {
      // lazyConnect and never used: connect it, as its first command would.
      const ready = waitForReady(client, describe);
      client.connect().catch(() => {}); // the failure arrives through the 'error' event
      return ready;
    }
    default:
      // connecting, connect, reconnecting
      return waitForReady(client, describe);
  }
}

/** What the standalone and Cluster adapters share: readiness, single commands, the key prefix. */
type IoredisCommon = Pick<IoredisLike, 'status' | 'callBuffer' | 'call' | 'connect' | 'on' | 'off'> & { options?: PrefixOptions };

abstract class IoredisBase<C extends IoredisCommon> {
  readonly client: C;

  constructor(client: C) {
    this.client = client;
  }

  abstract describe(): string;

  get keyPrefix(): Buffer | undefined {
    return prefixBytes(this.client.options);
  }

  ready(): Promise<void> {
    return ensureIoredisReady(this.client, () => this.describe());
  }

  send(command: string, ...args: RedisArg[]): Promise<RedisReply> {
    return withoutPrefix(this.client.options, () => this.client.callBuffer(command, ...args)) as Promise<RedisReply>;
  }

  sendText(command: string, ...args: RedisArg[]): Promise<TextReply> {
    return withoutPrefix(this.client.options, () => this.client.call(command, ...args)) as Promise<TextReply>;
  }
}

export class IoredisAdapter extends IoredisBase<IoredisLike> implements RedisAdapter {
  readonly kind = 'ioredis' as const;
  readonly multiKey: boolean;

  constructor(client: IoredisLike, options: { multiKey?: boolean } = {}) {
    super(client);
    this.multiKey = options.multiKey ?? true;
  }

  describe(): string {
    const o = this.client.options ?? {};
    const where = o.path ? `unix:${o.path}` : `redis://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
    const db = o.db ? `/${o.db}` : '';
    return `ioredis client (${where}${db}, status ${this.client.status})`;
  }

  async batch(commands: readonly RedisCommand[]): Promise<Array<RedisReply | Error>> {
    if (commands.length === 0) return [];
    const pipeline = this.client.pipeline();
    withoutPrefix(this.client.options, () => {
      for (const [command, ...args] of commands) pipeline.callBuffer(command, ...args);
    });
    const results = await pipeline.exec();
    if (!results) throw new RedisConnectionClosedError(this.describe());
    return results.map(([err, reply]) => err ?? (reply as RedisReply));
  }

  scan(options?: ScanOptions): AsyncIterable<Buffer[]> {
    return scanServer((c, ...a) => this.send(c, ...a), options);
  }

  scanText(options?: ScanOptions): AsyncIterable<Array<string | Buffer>> {
    return scanServerText((c, ...a) => this.send(c, ...a), (c, ...a) => this.sendText(c, ...a), options);
  }

  shards(): RedisAdapter[] {
    return [this];
  }
}

/**
 * ioredis `Cluster`: single commands are routed by ioredis; SCAN and scripts run per master node. Batches
 * are sent as concurrent single commands (an ioredis cluster pipeline must stay within one slot); ioredis
 * writes them back to back, so they still share round trips per node.
 */
export class IoredisClusterAdapter extends IoredisBase<IoredisClusterLike> implements RedisAdapter {
  readonly kind = 'ioredis-cluster' as const;
  readonly multiKey = false;

  describe(): string {
    return `ioredis cluster client (${this.client.nodes('master').length} masters, status ${this.client.status})`;
  }

  async batch(commands: readonly RedisCommand[]): Promise<Array<RedisReply | Error>> {
    const settled = await Promise.allSettled(commands.map(([command, ...args]) => this.send(command, ...args)));
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : toError(s.reason)));
  }

  async *scan(options?: ScanOptions): AsyncGenerator<Buffer[]> {
    for (const shard of this.shards()) yield* shard.scan(options);
  }

  shards(): RedisAdapter[] {
    return this.client.nodes('master').map((node) => new IoredisAdapter(node, { multiKey: false }));
  }
}
