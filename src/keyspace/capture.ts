import { createHash } from 'node:crypto';
import { InvalidKeyspaceOptionError, KeyspaceReadError, NotARedisClientError } from '../errors';
import type { RedisAdapter, RedisCommand, RedisReply } from '../redis/adapter';
import { toRedisAdapter } from '../redis/toRedisAdapter';
import { isLiteralGlob, keyFilter, type KeyMatcher } from './glob';
import { compileRedactRules, redactEntry, type RedactRule } from './redact';
import { toRedisText } from './text';
import { validateTtlRendering } from './ttl';
import {
  KEYSPACE_BRAND,
  type BinaryRendering,
  type KeyEntry,
  type KeyspacePrintOptions,
  type KeyspaceSnapshot,
  type OtherTypeEntry,
  type RedisText,
  type StreamIdRendering,
  type TtlRendering,
} from './types';

export interface DecodeOptions {
  /** Strings (and hash values, list items, stream values) holding a JSON object or array print structured. Default true. */
  json?: boolean;
  /** How bytes that are not valid UTF-8 print: `'escape'` `b"\xff"` (default), `'hex'` `hex"ff"`, `'base64'`. */
  binary?: BinaryRendering;
}

export interface CaptureKeyspaceOptions {
  /** Key globs (Redis SCAN MATCH syntax) to capture. Default: every key. One glob is applied by the server. */
  match?: string | readonly string[];
  /** Key globs to leave out. */
  exclude?: string | readonly string[];
  /** Secrets to keep out of the snapshot: key globs, JSON paths (`$..token`), RegExps, `{ key, field, path }`. */
  redact?: RedactRule | readonly RedactRule[];
  /** How TTLs print. Default `'buckets'` (`expires in ≤ 1m`). */
  ttl?: TtlRendering;
  /** How values print. */
  decode?: DecodeOptions;
  /** How stream entry IDs print. Default `'auto'`: clock-made IDs print as positions (`#1`), chosen IDs as they are. */
  streamIds?: StreamIdRendering;
  /** Keys per SCAN call and per read round trip. Default 1000. */
  batchSize?: number;
  /**
   * Collections with more elements than this are read in chunks (HSCAN, SSCAN, ZSCAN, LRANGE and XRANGE
   * pages) instead of in one reply, so a huge key never blocks the server. Default 1000.
   */
  chunkSize?: number;
}

/** Every option key, for validation (a misspelt option is an error, not a silent no-op). */
const OPTION_KEYS = ['match', 'exclude', 'redact', 'ttl', 'decode', 'streamIds', 'batchSize', 'chunkSize'] as const;

interface Plan {
  serverMatch: string | undefined;
  filter: KeyMatcher | undefined;
  batchSize: number;
  chunkSize: number;
  print: KeyspacePrintOptions;
  redact: ReturnType<typeof compileRedactRules>;
}

type RawValue = Buffer | RedisReply[];

interface RawEntry {
  key: Buffer;
  /** Latin-1 view of the key bytes: sorts in byte order with plain string comparison. */
  sortKey: string;
  type: string;
  pttl: number;
  value: RawValue | undefined;
}

/** Reads a whole batch of keys in one round trip: type, PTTL and (for small enough keys) the value. */
const READ_SCRIPT = `
local limit = tonumber(ARGV[1])
local out = {}
for _, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  local n, v = 0, false
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'hash' then n = redis.call('HLEN', k); if n <= limit then v = redis.call('HGETALL', k) end
  elseif t == 'list' then n = redis.call('LLEN', k); if n <= limit then v = redis.call('LRANGE', k, 0, -1) end
  elseif t == 'set' then n = redis.call('SCARD', k); if n <= limit then v = redis.call('SMEMBERS', k) end
  elseif t == 'zset' then n = redis.call('ZCARD', k); if n <= limit then v = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES') end
  elseif t == 'stream' then n = redis.call('XLEN', k); if n <= limit then v = redis.call('XRANGE', k, '-', '+') end
  end
  out[#out + 1] = t
  out[#out + 1] = redis.call('PTTL', k)
  out[#out + 1] = v
end
return out
`;
const READ_SCRIPT_SHA = createHash('sha1').update(READ_SCRIPT).digest('hex');

const SIZE_COMMAND: Record<string, string> = { hash: 'HLEN', list: 'LLEN', set: 'SCARD', zset: 'ZCARD', stream: 'XLEN' };

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'a plain object';
}

function toList(value: unknown, option: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p !== '')) {
    throw new InvalidKeyspaceOptionError(option, 'must be a key glob or a list of key globs (non-empty strings)');
  }
  return list as string[];
}

function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidKeyspaceOptionError(option, `must be a positive integer; received ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates the options (throws InvalidKeyspaceOptionError) and returns the resolved plan. */
function plan(options: CaptureKeyspaceOptions): Plan {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidKeyspaceOptionError('options', 'must be an object');
  }
  const unknown = Object.keys(options).filter((k) => !(OPTION_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new InvalidKeyspaceOptionError(unknown.join(', '), `unknown option (known: ${OPTION_KEYS.join(', ')})`);
  }
  const match = toList(options.match, 'match');
  const exclude = toList(options.exclude, 'exclude');
  const decode = options.decode ?? {};
  if (typeof decode !== 'object' || decode === null) throw new InvalidKeyspaceOptionError('decode', 'must be an object');
  for (const k of Object.keys(decode)) {
    if (k !== 'json' && k !== 'binary') throw new InvalidKeyspaceOptionError(`decode.${k}`, 'unknown option (known: json, binary)');
  }
  if (decode.json !== undefined && typeof decode.json !== 'boolean') {
    throw new InvalidKeyspaceOptionError('decode.json', 'must be true or false');
  }
  if (decode.binary !== undefined && !['escape', 'hex', 'base64'].includes(decode.binary)) {
    throw new InvalidKeyspaceOptionError('decode.binary', "must be 'escape', 'hex' or 'base64'");
  }
  if (options.streamIds !== undefined && !['auto', 'exact', 'index'].includes(options.streamIds)) {
    throw new InvalidKeyspaceOptionError('streamIds', "must be 'auto', 'exact' or 'index'");
  }
  return {
    // One glob goes to the server (SCAN MATCH); several, or excludes, are filtered here.
    serverMatch: match.length === 1 ? match[0] : undefined,
    filter: keyFilter(match.length === 1 ? [] : match, exclude),
    batchSize: positiveInt(options.batchSize, 'batchSize', 1000),
    chunkSize: positiveInt(options.chunkSize, 'chunkSize', 1000),
    print: {
      ttl: validateTtlRendering(options.ttl),
      json: decode.json ?? true,
      binary: decode.binary ?? 'escape',
      streamIds: options.streamIds ?? 'auto',
    },
    redact: compileRedactRules(options.redact),
  };
}

/**
 * Reads every key of the Redis keyspace (or those selected by `match`/`exclude`): its type, its TTL and its
 * whole value, for strings, hashes, lists, sets, sorted sets and streams. Uses SCAN, never KEYS; each page
 * of keys is read in one round trip by a Lua script (or pipelined commands where scripts are not allowed,
 * and on a cluster). Returns plain data branded for the snapshot serializer.
 *
 * `client` is an ioredis client or Cluster, a node-redis v5 client, or a RedisAdapter.
 *
 * @example
 * const snap = await captureKeyspace(redis, { match: 'user:*', redact: ['session:*', /token/] });
 * expect(snap).toMatchSnapshot();
 */
export async function captureKeyspace(client: unknown, options: CaptureKeyspaceOptions = {}): Promise<KeyspaceSnapshot> {
  const adapter = toRedisAdapter(client);
  if (!adapter) throw new NotARedisClientError('captureKeyspace', describeValue(client));
  const p = plan(options);
  await adapter.ready();
  const raw: RawEntry[] = [];
  try {
    for (const shard of adapter.shards()) await captureShard(shard, p, raw);
  } catch (err) {
    // A connection that closed or dropped during the capture: report that, not the command that noticed.
    await adapter.ready();
    throw err;
  }
  return buildSnapshot(raw, p);
}

async function captureShard(shard: RedisAdapter, p: Plan, out: RawEntry[]): Promise<void> {
  const seen = new Set<string>(); // SCAN may return a key more than once
  const state = { script: shard.multiKey };
  const inflight: Array<Promise<void>> = [];
  let failure: unknown;
  const note = (err: unknown) => {
    failure ??= err;
  };
  try {
    for await (const page of shard.scan({ match: p.serverMatch, count: p.batchSize })) {
      if (failure !== undefined) break;
      const keys: Buffer[] = [];
      const sortKeys: string[] = [];
      for (const key of page) {
        if (p.filter && !p.filter(key)) continue;
        const sortKey = key.toString('latin1');
        if (seen.has(sortKey)) continue;
        seen.add(sortKey);
        keys.push(key);
        sortKeys.push(sortKey);
      }
      if (keys.length === 0) continue;
      inflight.push(readBatch(shard, keys, sortKeys, p, state, out).catch(note));
      // A few batches in flight: the server works on the next while this process decodes the last.
      if (inflight.length >= 4) await inflight.shift();
    }
  } catch (err) {
    note(err);
  }
  await Promise.all(inflight);
  if (failure !== undefined) {
    throw failure instanceof KeyspaceReadError || isConnectionError(failure) ? failure : new KeyspaceReadError(undefined, failure);
  }
}

function isConnectionError(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ['REDIS_CONNECTION_CLOSED', 'REDIS_UNREACHABLE'].includes((err as { code?: string }).code ?? '')
  );
}

async function readBatch(
  shard: RedisAdapter,
  keys: Buffer[],
  sortKeys: string[],
  p: Plan,
  state: { script: boolean },
  out: RawEntry[],
): Promise<void> {
  let entries: RawEntry[] | undefined;
  if (state.script) {
    entries = await readWithScript(shard, keys, sortKeys, p.chunkSize);
    if (!entries) state.script = false; // scripting not allowed here: pipelines from now on
  }
  entries ??= await readWithPipeline(shard, keys, sortKeys, p.chunkSize);
  // Values left out of the batch reply because they are large, read in chunks.
  for (const e of entries) {
    if (e.value === undefined && e.type in SIZE_COMMAND) e.value = await readLarge(shard, e.key, e.type, p.chunkSize);
  }
  for (const e of entries) out.push(e);
}

/** undefined when scripts cannot run on this server (disabled, ACL, read-only replica, ...). */
async function readWithScript(
  shard: RedisAdapter,
  keys: Buffer[],
  sortKeys: string[],
  chunkSize: number,
): Promise<RawEntry[] | undefined> {
  let reply: RedisReply;
  try {
    reply = await shard.send('EVALSHA', READ_SCRIPT_SHA, keys.length, ...keys, chunkSize);
  } catch (err) {
    if (!/NOSCRIPT/.test(String((err as Error)?.message))) return undefined;
    try {
      reply = await shard.send('EVAL', READ_SCRIPT, keys.length, ...keys, chunkSize);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(reply) || reply.length !== keys.length * 3) return undefined;
  const out: RawEntry[] = [];
  for (let i = 0; i < keys.length; i++) {
    const type = textOf(reply[i * 3]);
    const pttl = reply[i * 3 + 1];
    const value = reply[i * 3 + 2];
    if (type === 'none' || pttl === -2) continue; // deleted or expired since SCAN
    out.push({
      key: keys[i]!,
      sortKey: sortKeys[i]!,
      type,
      pttl: typeof pttl === 'number' ? pttl : -1,
      value: value === null || value === undefined ? undefined : (value as RawValue),
    });
  }
  return out;
}

function textOf(reply: RedisReply | Error | undefined): string {
  return Buffer.isBuffer(reply) ? reply.toString('latin1') : typeof reply === 'number' ? String(reply) : '';
}

function check(reply: RedisReply | Error | undefined, key: Buffer): RedisReply {
  if (reply instanceof Error) throw new KeyspaceReadError(toRedisText(key).toString(), reply);
  return reply ?? null;
}

async function readWithPipeline(
  shard: RedisAdapter,
  keys: Buffer[],
  sortKeys: string[],
  chunkSize: number,
): Promise<RawEntry[]> {
  const meta = await shard.batch(keys.flatMap((k): RedisCommand[] => [['TYPE', k], ['PTTL', k]]));
  const live: RawEntry[] = [];
  keys.forEach((key, i) => {
    const type = textOf(check(meta[i * 2], key));
    const pttl = check(meta[i * 2 + 1], key);
    if (type === 'none' || pttl === -2) return;
    live.push({ key, sortKey: sortKeys[i]!, type, pttl: typeof pttl === 'number' ? pttl : -1, value: undefined });
  });
  // Strings read now; collections: their size first, then whole (small) or in chunks (large).
  const first = await shard.batch(
    live.map((e): RedisCommand => (e.type === 'string' ? ['GET', e.key] : [SIZE_COMMAND[e.type] ?? 'EXISTS', e.key])),
  );
  const whole: RawEntry[] = [];
  const wholeCommands: RedisCommand[] = [];
  live.forEach((e, i) => {
    const reply = check(first[i], e.key);
    if (e.type === 'string') {
      if (Buffer.isBuffer(reply)) e.value = reply;
    } else if (e.type in SIZE_COMMAND && typeof reply === 'number' && reply <= chunkSize) {
      whole.push(e);
      wholeCommands.push(fullRead(e.type, e.key));
    }
  });
  const replies = await shard.batch(wholeCommands);
  whole.forEach((e, i) => {
    const reply = check(replies[i], e.key);
    if (Array.isArray(reply)) e.value = reply;
  });
  // A string that expired between TYPE and GET is gone: drop it.
  return live.filter((e) => !(e.type === 'string' && e.value === undefined));
}

function fullRead(type: string, key: Buffer): RedisCommand {
  switch (type) {
    case 'hash':
      return ['HGETALL', key];
    case 'list':
      return ['LRANGE', key, 0, -1];
    case 'set':
      return ['SMEMBERS', key];
    case 'zset':
      return ['ZRANGE', key, 0, -1, 'WITHSCORES'];
    default:
      return ['XRANGE', key, '-', '+'];
  }
}

/** A large collection in pages: HSCAN/SSCAN/ZSCAN (deduplicated), LRANGE windows, XRANGE pages. */
async function readLarge(shard: RedisAdapter, key: Buffer, type: string, chunkSize: number): Promise<RedisReply[]> {
  const send = async (command: string, ...args: Array<string | number | Buffer>) => {
    try {
      return await shard.send(command, ...args);
    } catch (err) {
      throw new KeyspaceReadError(toRedisText(key).toString(), err);
    }
  };
  if (type === 'list') {
    const out: RedisReply[] = [];
    for (let start = 0; ; start += chunkSize) {
      const page = (await send('LRANGE', key, start, start + chunkSize - 1)) as RedisReply[];
      out.push(...page);
      if (page.length < chunkSize) return out;
    }
  }
  if (type === 'stream') {
    const out: RedisReply[] = [];
    let start = '-';
    for (;;) {
      const page = (await send('XRANGE', key, start, '+', 'COUNT', chunkSize)) as RedisReply[];
      out.push(...page);
      if (page.length < chunkSize) return out;
      const lastId = textOf((page[page.length - 1] as RedisReply[])[0]);
      start = `(${lastId}`;
    }
  }
  const command = type === 'hash' ? 'HSCAN' : type === 'set' ? 'SSCAN' : 'ZSCAN';
  const width = type === 'set' ? 1 : 2;
  const seen = new Map<string, RedisReply[]>();
  let cursor = '0';
  do {
    const reply = (await send(command, key, cursor, 'COUNT', chunkSize)) as [Buffer, RedisReply[]];
    cursor = textOf(reply[0]);
    const items = reply[1];
    for (let i = 0; i < items.length; i += width) {
      seen.set((items[i] as Buffer).toString('latin1'), items.slice(i, i + width));
    }
  } while (cursor !== '0');
  return [...seen.values()].flat();
}

function parseScore(reply: RedisReply): number {
  const text = textOf(reply).toLowerCase();
  if (text === 'inf' || text === '+inf') return Infinity;
  if (text === '-inf') return -Infinity;
  return Number(text);
}

function pairs(flat: RedisReply[]): Array<[Buffer, Buffer]> {
  const out: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as Buffer, flat[i + 1] as Buffer]);
  return out;
}

const byBytes = (a: Buffer, b: Buffer) => Buffer.compare(a, b);

/** Builds a typed entry from raw replies; undefined for a type this library does not read. */
function toEntry(e: RawEntry): KeyEntry | undefined {
  const key = toRedisText(e.key);
  const ttlMs = e.pttl >= 0 ? e.pttl : null;
  const raw = e.value;
  const list = Array.isArray(raw) ? raw : [];
  switch (e.type) {
    case 'string':
      return { type: 'string', key, ttlMs, value: toRedisText(raw as Buffer) };
    case 'hash':
      return {
        type: 'hash',
        key,
        ttlMs,
        value: pairs(list)
          .sort((a, b) => byBytes(a[0], b[0]))
          .map(([f, v]): [RedisText, RedisText] => [toRedisText(f), toRedisText(v)]),
      };
    case 'list':
      return { type: 'list', key, ttlMs, value: (list as Buffer[]).map(toRedisText) };
    case 'set':
      return { type: 'set', key, ttlMs, value: [...(list as Buffer[])].sort(byBytes).map(toRedisText) };
    case 'zset':
      return {
        type: 'zset',
        key,
        ttlMs,
        value: pairs(list)
          .map(([m, s]) => ({ bytes: m, score: parseScore(s) }))
          .sort((a, b) => (a.score === b.score ? byBytes(a.bytes, b.bytes) : a.score < b.score ? -1 : 1))
          .map(({ bytes, score }) => ({ member: toRedisText(bytes), score })),
      };
    case 'stream':
      return {
        type: 'stream',
        key,
        ttlMs,
        value: (list as RedisReply[][]).map(([id, fields]) => ({
          id: textOf(id),
          fields: pairs((fields as RedisReply[] | null) ?? []).map(([f, v]): [RedisText, RedisText] => [
            toRedisText(f),
            toRedisText(v),
          ]),
        })),
      };
    default:
      return undefined;
  }
}

function buildSnapshot(raw: RawEntry[], p: Plan): KeyspaceSnapshot {
  raw.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  const entries: KeyEntry[] = [];
  const otherTypes: OtherTypeEntry[] = [];
  for (const e of raw) {
    const entry = toEntry(e);
    if (entry) {
      redactEntry(entry, p.redact);
      entries.push(entry);
    } else {
      otherTypes.push({ key: toRedisText(e.key), type: e.type, ttlMs: e.pttl >= 0 ? e.pttl : null });
    }
  }
  return { [KEYSPACE_BRAND]: true, entries, otherTypes, print: p.print };
}
