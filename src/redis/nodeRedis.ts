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
 * node-redis v5 and v6 (`createClient()` from `redis` or `@redis/client`), recognised by shape. The package is not
 * imported: the application's own copy is used through the client object.
 */
export interface NodeRedisLike {
  isOpen: boolean;
  isReady: boolean;
  options?: { url?: string; socket?: { host?: string; port?: number; path?: string }; database?: number };
  sendCommand(args: Array<string | Buffer>, options?: { typeMapping?: Record<number, unknown> }): Promise<unknown>;
  withTypeMapping(mapping: Record<number, unknown>): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * RESP type codes of node-redis's `RESP_TYPES` (the reply's first byte): blob, simple and verbatim strings
 * are all mapped to Buffer, so replies are binary-safe whatever the client's own type mapping says.
 */
const BUFFER_REPLIES: Record<number, unknown> = {
  36: Buffer, // '$' BLOB_STRING
  43: Buffer, // '+' SIMPLE_STRING
  61: Buffer, // '=' VERBATIM_STRING
};

/**
 * A node-redis v5 or v6 client: `sendCommand`, `withTypeMapping` (new in v5) and boolean `isOpen`/`isReady`.
 * A node-redis cluster (`createCluster`, which has `masters`) is not a client in this sense.
 */
export function isNodeRedis(value: unknown): value is NodeRedisLike {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.sendCommand === 'function' &&
    typeof v.withTypeMapping === 'function' &&
    typeof v.isOpen === 'boolean' &&
    typeof v.isReady === 'boolean' &&
    typeof v.on === 'function' &&
    !('masters' in v)
  );
}

function toArg(arg: RedisArg): string | Buffer {
  return typeof arg === 'number' ? String(arg) : arg;
}

export class NodeRedisAdapter implements RedisAdapter {
  readonly kind = 'node-redis' as const;
  readonly client: NodeRedisLike;
  readonly multiKey = true;

  constructor(client: NodeRedisLike) {
    this.client = client;
  }

  describe(): string {
    const o = this.client.options ?? {};
    const where =
      o.url ??
      (o.socket?.path ? `unix:${o.socket.path}` : `redis://${o.socket?.host ?? 'localhost'}:${o.socket?.port ?? 6379}`);
    const state = this.client.isReady ? 'ready' : this.client.isOpen ? 'connecting' : 'closed';
    return `node-redis client (${where}, ${state})`;
  }

  async ready(): Promise<void> {
    if (this.client.isReady) return;
    if (!this.client.isOpen) throw new RedisConnectionClosedError(this.describe());
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.client.off('ready', onReady);
        this.client.off('error', onError);
        this.client.off('end', onEnd);
      };
      const onReady = () => {
        done();
        resolve();
      };
      const onError = (...args: unknown[]) => {
        done();
        reject(new RedisUnreachableError(this.describe(), args[0]));
      };
      const onEnd = () => {
        done();
        reject(new RedisConnectionClosedError(this.describe()));
      };
      this.client.on('ready', onReady);
      this.client.on('error', onError);
      this.client.on('end', onEnd);
    });
  }

  send(command: string, ...args: RedisArg[]): Promise<RedisReply> {
    return this.client.sendCommand([command, ...args.map(toArg)], { typeMapping: BUFFER_REPLIES }) as Promise<RedisReply>;
  }

  /** An empty type mapping: node-redis's defaults (strings), whatever the client's own mapping says. */
  sendText(command: string, ...args: RedisArg[]): Promise<TextReply> {
    return this.client.sendCommand([command, ...args.map(toArg)], { typeMapping: {} }) as Promise<TextReply>;
  }

  /** node-redis writes every command issued in the same tick in one socket write: that is its pipeline. */
  async batch(commands: readonly RedisCommand[]): Promise<Array<RedisReply | Error>> {
    const settled = await Promise.allSettled(commands.map(([command, ...args]) => this.send(command, ...args)));
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : toError(s.reason)));
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
