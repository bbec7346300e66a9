/**
 * One small interface over every supported Redis client. Everything above this folder (keyspace capture,
 * the consistency comparison, the race helpers) talks to Redis only through a `RedisAdapter`, so a new
 * client library needs one adapter here and nothing else.
 *
 * Replies are binary-safe: every bulk and status string comes back as a `Buffer`, never decoded.
 */

/** One command argument. Numbers are sent as their decimal text. */
export type RedisArg = string | Buffer | number;

/** A raw reply: strings as Buffers, integers (and RESP3 doubles) as numbers, nil as null, arrays nested. */
export type RedisReply = Buffer | number | null | RedisReply[];

/** A reply with bulk strings decoded as UTF-8 (lossy: invalid bytes become U+FFFD), for {@link RedisAdapter.sendText}. */
export type TextReply = string | number | null | TextReply[];

/** A command and its arguments, for {@link RedisAdapter.batch}. */
export type RedisCommand = readonly [command: string, ...args: RedisArg[]];

export interface ScanOptions {
  /** SCAN MATCH glob, applied by the server. Default: every key. */
  match?: string | Buffer;
  /** SCAN COUNT hint (keys the server looks at per call). Default 1000. */
  count?: number;
  /** SCAN TYPE filter (Redis ≥ 6). */
  type?: string;
}

export type RedisClientKind = 'ioredis' | 'ioredis-cluster' | 'node-redis';

export interface RedisAdapter {
  /** Which client library this adapter wraps. */
  readonly kind: RedisClientKind;
  /** The wrapped client, unchanged. */
  readonly client: unknown;
  /**
   * False when a command may not touch keys of different hash slots (a cluster, or one node of it):
   * multi-key reads (MGET, a Lua script over a batch of keys) are then not used.
   */
  readonly multiKey: boolean;
  /**
   * The client's own key prefix (ioredis `keyPrefix`), as bytes, or undefined. The adapter never applies it:
   * `send`, `batch` and `scan` work on full key names, so keys read from SCAN can be sent back as they are.
   */
  readonly keyPrefix?: Buffer;
  /** A short description for error messages, e.g. `ioredis client (redis://127.0.0.1:6380, status ready)`. */
  describe(): string;
  /**
   * Resolves once the client can serve commands: at once for a ready client; for a connecting one, on its
   * own ready event. Rejects with `RedisConnectionError` for a closed client, or one whose connection attempt
   * fails (unreachable server, refused, auth error).
   */
  ready(): Promise<void>;
  /** Sends one command. Rejects with the server's error reply (an `Error`). */
  send(command: string, ...args: RedisArg[]): Promise<RedisReply>;
  /**
   * Optional: the same, with strings decoded by the client as UTF-8 (cheaper than Buffers for bulk reads).
   * Lossy: bytes that are not UTF-8 come back as U+FFFD, so a caller must re-read any value containing U+FFFD
   * with {@link RedisAdapter.send}.
   */
  sendText?(command: string, ...args: RedisArg[]): Promise<TextReply>;
  /**
   * Sends many commands in one round trip (a pipeline, not a transaction). Replies come back in order; a
   * command the server rejected yields its `Error` in its slot instead of rejecting the whole batch.
   */
  batch(commands: readonly RedisCommand[]): Promise<Array<RedisReply | Error>>;
  /** Every key (of every shard), one SCAN reply's worth of keys at a time. Never KEYS. */
  scan(options?: ScanOptions): AsyncIterable<Buffer[]>;
  /**
   * Optional: the same SCAN with each key as a string when it is valid UTF-8, else as bytes (cheaper than
   * Buffers for the client to read; never lossy).
   */
  scanText?(options?: ScanOptions): AsyncIterable<Array<string | Buffer>>;
  /**
   * The servers holding the keyspace: `[this]` for a standalone server, one adapter per master for a
   * cluster. Work that must stay on one server (SCAN cursors, scripts) runs per shard.
   */
  shards(): RedisAdapter[];
}

/** An Error for a rejection reason of any kind. */
export function toError(reason: unknown): Error {
  // Duck-typed: errors made by Node itself are not `instanceof Error` inside a Jest sandbox.
  if (reason instanceof Error) return reason;
  if (typeof reason === 'object' && reason !== null && typeof (reason as Error).message === 'string') return reason as Error;
  return new Error(String(reason));
}

/** Encodes a reply Buffer as text (for status replies like TYPE's `string`). */
export function replyText(reply: RedisReply | Error | undefined): string {
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (typeof reply === 'number') return String(reply);
  return '';
}

/**
 * SCAN over one server through `send`: shared by every adapter. Yields each non-empty page of keys.
 * The next SCAN page is requested before the current one is handed out, so reading a page overlaps with
 * the server producing the next.
 */
export function scanServer(
  send: (command: string, ...args: RedisArg[]) => Promise<RedisReply>,
  options: ScanOptions = {},
): AsyncGenerator<Buffer[]> {
  return scanPages((cursor) => send('SCAN', cursor, ...scanArgs(options)).then(parseScanReply));
}

/**
 * The same SCAN, with keys decoded by the client (`sendText`: cheaper than Buffers): a page where some key
 * holds U+FFFD (bytes that are not UTF-8, or a real U+FFFD) is asked again at the same cursor as bytes (`send`),
 * and that reply (its keys and its next cursor) is used instead: every key comes back exact, as a string when
 * the client decoded it, else as bytes.
 */
export function scanServerText(
  send: (command: string, ...args: RedisArg[]) => Promise<RedisReply>,
  sendText: (command: string, ...args: RedisArg[]) => Promise<TextReply>,
  options: ScanOptions = {},
): AsyncGenerator<Array<string | Buffer>> {
  const extra = scanArgs(options);
  return scanPages(async (cursor): Promise<ScanPage<string | Buffer>> => {
    const page = parseScanText(await sendText('SCAN', cursor, ...extra));
    if (!page.keys.some((k) => k.includes('\uFFFD'))) return page;
    return parseScanReply(await send('SCAN', cursor, ...extra));
  });
}

function scanArgs(options: ScanOptions): RedisArg[] {
  const extra: RedisArg[] = [];
  if (options.match !== undefined) extra.push('MATCH', options.match);
  extra.push('COUNT', options.count ?? 1000);
  if (options.type !== undefined) extra.push('TYPE', options.type);
  return extra;
}

interface ScanPage<K> {
  cursor: string;
  keys: K[];
}

async function* scanPages<K>(page: (cursor: string) => Promise<ScanPage<K>>): AsyncGenerator<K[]> {
  let next = page('0');
  for (;;) {
    const { cursor, keys } = await next;
    const done = cursor === '0';
    if (!done) next = page(cursor);
    if (keys.length > 0) yield keys;
    if (done) return;
  }
}

function parseScanReply(reply: RedisReply): ScanPage<Buffer> {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
    throw new Error(`unexpected SCAN reply: ${JSON.stringify(reply)}`);
  }
  const cursor = replyText(reply[0]);
  const keys = (reply[1] as RedisReply[]).filter((k): k is Buffer => Buffer.isBuffer(k));
  return { cursor, keys };
}

function parseScanText(reply: TextReply): ScanPage<string> {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
    throw new Error(`unexpected SCAN reply: ${JSON.stringify(reply)}`);
  }
  const keys = (reply[1] as TextReply[]).filter((k): k is string => typeof k === 'string');
  return { cursor: reply[0], keys };
}
