import { createHash } from 'node:crypto';
import { readFile, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidKeyspaceOptionError, KeyspaceReadError, NotARedisClientError } from '../errors';
import { toError, type RedisAdapter, type RedisArg, type RedisCommand, type RedisReply, type TextReply } from '../redis/adapter';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { toRedisAdapter } from '../redis/toRedisAdapter';
import { escapeGlob, globToRegExp, keyFilter, type KeyMatcher } from './glob';
import { mayHaveOwnServers, ownServer, type OwnServer } from '../server/ownServers';
import { readRdb, RdbUnsupportedError } from './rdb';
import { presetRedactRules } from '../preset/state';
import { compileRedactRules, redactEntry, type RedactRule } from './redact';
import { isUtf8 } from 'node:buffer';
import { sortByKey } from './sortByKey';
import { redisTextBytes } from './text';
import { validateTtlRendering } from './ttl';
import {
  KEYSPACE_BRAND,
  type BinaryRendering,
  type KeyEntry,
  type KeyspacePrintOptions,
  type KeyspaceSnapshot,
  type OtherTypeEntry,
  type RedisText,
  type CacheEnvelopeRendering,
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
  /**
   * How the clock fields of Keyv's and BentoCache's stored values print. Default `'stable'`: an expiry as
   * `<expires in ≤ 1m>` (relative to the capture, with the `ttl` rendering), a write time as `<timestamp>`.
   */
  cacheEnvelopes?: CacheEnvelopeRendering;
  /** Keys per SCAN call and per read round trip. Default 1000. */
  batchSize?: number;
  /**
   * Collections with more elements than this are read in chunks (HSCAN, SSCAN, ZSCAN, LRANGE and XRANGE
   * pages) instead of in one reply, so a huge key never blocks the server. Default 1000.
   */
  chunkSize?: number;
}

/** Every option key, for validation (a misspelt option is an error, not a silent no-op). */
export const CAPTURE_OPTION_KEYS = optionKeys<CaptureKeyspaceOptions>({ match: true, exclude: true, redact: true, ttl: true, decode: true, streamIds: true, cacheEnvelopes: true, batchSize: true, chunkSize: true });
const DECODE_KEYS = optionKeys<DecodeOptions>({ json: true, binary: true });

interface Plan {
  serverMatch: string | Buffer | undefined;
  filter: KeyMatcher | undefined;
  /** The client's key prefix (ioredis keyPrefix): only keys under it are read, and printed without it. */
  prefix: Buffer | undefined;
  batchSize: number;
  chunkSize: number;
  print: KeyspacePrintOptions;
  redact: ReturnType<typeof compileRedactRules>;
}

type RawValue = Buffer | RedisReply[];

/** One key as read from the server, before decoding (pipeline path). */
interface RawEntry {
  key: RedisText;
  type: string;
  pttl: number;
  value: RawValue | undefined;
}

/** What a capture collects, unsorted. */
interface Sink {
  entries: KeyEntry[];
  others: OtherTypeEntry[];
  /** The key as the entry shows it (without the client's key prefix). */
  name: (key: RedisText) => RedisText;
}

/**
 * Reads a whole batch of keys in one round trip. Reply: the PTTL of every key, then for every key its
 * value: a bulk string for a string key (from one MGET per 1000 keys), else `{type, size, elements}` with
 * the elements left out (false) for a collection larger than ARGV[1].
 */
const READ_SCRIPT = `
local limit = tonumber(ARGV[1])
local n = #KEYS
local vals = {}
for i = 1, n, 1000 do
  local last = math.min(i + 999, n)
  local part = redis.call('MGET', unpack(KEYS, i, last))
  for j = 1, last - i + 1 do vals[i + j - 1] = part[j] end
end
local out = {}
for i = 1, n do out[i] = redis.call('PTTL', KEYS[i]) end
for i = 1, n do
  local v = vals[i]
  if not v then
    local k = KEYS[i]
    local t = redis.call('TYPE', k)['ok']
    local size, items = 0, false
    if t == 'hash' then size = redis.call('HLEN', k); if size <= limit then items = redis.call('HGETALL', k) end
    elseif t == 'list' then size = redis.call('LLEN', k); if size <= limit then items = redis.call('LRANGE', k, 0, -1) end
    elseif t == 'set' then size = redis.call('SCARD', k); if size <= limit then items = redis.call('SMEMBERS', k) end
    elseif t == 'zset' then size = redis.call('ZCARD', k); if size <= limit then items = redis.call('ZRANGE', k, 0, -1, 'WITHSCORES') end
    elseif t == 'stream' then size = redis.call('XLEN', k); if size <= limit then items = redis.call('XRANGE', k, '-', '+') end
    end
    v = {t, size, items}
  end
  out[n + i] = v
end
return out
`;
const READ_SCRIPT_SHA = createHash('sha1').update(READ_SCRIPT).digest('hex');

/** The string value (MGET, so nil for other types) and the PTTL of every key of a batch, in one round trip. */
const VALUES_TTL_SCRIPT = `
local n = #KEYS
local out = {}
for i = 1, n, 1000 do
  local last = math.min(i + 999, n)
  local part = redis.call('MGET', unpack(KEYS, i, last))
  for j = 1, last - i + 1 do out[i + j - 1] = part[j] end
end
for i = 1, n do out[n + i] = redis.call('PTTL', KEYS[i]) end
return out
`;
const VALUES_TTL_SCRIPT_SHA = createHash('sha1').update(VALUES_TTL_SCRIPT).digest('hex');

/**
 * One SCAN page read whole, in one round trip: SCAN from ARGV[1] (COUNT ARGV[2], MATCH ARGV[3] if given), then
 * the string value (MGET: nil for other types) and the PTTL of every key it returned. Reply: the next cursor, the
 * keys, their values, their PTTLs. The keys never travel to the server and back, and each key's value and TTL
 * are read at the same moment. Only for a standalone server: the keys touched are the ones its own SCAN returns.
 */
const SCAN_READ_SCRIPT = `
local scan = {'SCAN', ARGV[1], 'COUNT', ARGV[2]}
if ARGV[3] then scan[5] = 'MATCH'; scan[6] = ARGV[3] end
local page = redis.call(unpack(scan))
local keys = page[2]
local n = #keys
local vals, ttls = {}, {}
for i = 1, n, 1000 do
  local last = math.min(i + 999, n)
  local part = redis.call('MGET', unpack(keys, i, last))
  for j = 1, last - i + 1 do vals[i + j - 1] = part[j] end
end
for i = 1, n do ttls[i] = redis.call('PTTL', keys[i]) end
return {page[1], keys, vals, ttls}
`;
const SCAN_READ_SCRIPT_SHA = createHash('sha1').update(SCAN_READ_SCRIPT).digest('hex');

/** Keys that are not strings, read per script call. */
const OTHERS_PER_CALL = 200;

/** Batches read at the same time (a bound on memory, not a tuning knob). */
const MAX_IN_FLIGHT = 16;

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
function plan(options: CaptureKeyspaceOptions, presetRedact: boolean): Plan {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidKeyspaceOptionError('options', 'must be an object');
  }
  const unknown = findUnknownKey(options, CAPTURE_OPTION_KEYS);
  if (unknown) throw new InvalidKeyspaceOptionError(unknown.key, unknown.problem);
  const match = toList(options.match, 'match');
  const exclude = toList(options.exclude, 'exclude');
  const decode = options.decode ?? {};
  if (typeof decode !== 'object' || decode === null) throw new InvalidKeyspaceOptionError('decode', 'must be an object');
  const unknownDecode = findUnknownKey(decode, DECODE_KEYS);
  if (unknownDecode) throw new InvalidKeyspaceOptionError(`decode.${unknownDecode.key}`, unknownDecode.problem);
  if (decode.json !== undefined && typeof decode.json !== 'boolean') {
    throw new InvalidKeyspaceOptionError('decode.json', 'must be true or false');
  }
  if (decode.binary !== undefined && !['escape', 'hex', 'base64'].includes(decode.binary)) {
    throw new InvalidKeyspaceOptionError('decode.binary', "must be 'escape', 'hex' or 'base64'");
  }
  if (options.streamIds !== undefined && !['auto', 'exact', 'index'].includes(options.streamIds)) {
    throw new InvalidKeyspaceOptionError('streamIds', "must be 'auto', 'exact' or 'index'");
  }
  if (options.cacheEnvelopes !== undefined && !['stable', 'exact'].includes(options.cacheEnvelopes)) {
    throw new InvalidKeyspaceOptionError('cacheEnvelopes', "must be 'stable' or 'exact'");
  }
  return {
    // One glob goes to the server (SCAN MATCH); several, or excludes, are filtered here.
    serverMatch: match.length === 1 ? match[0] : undefined,
    filter: keyFilter(match.length === 1 ? [] : match, exclude),
    prefix: undefined,
    batchSize: positiveInt(options.batchSize, 'batchSize', 1000),
    chunkSize: positiveInt(options.chunkSize, 'chunkSize', 1000),
    print: {
      ttl: validateTtlRendering(options.ttl),
      json: decode.json ?? true,
      binary: decode.binary ?? 'escape',
      streamIds: options.streamIds ?? 'auto',
      cacheEnvelopes: options.cacheEnvelopes ?? 'stable',
    },
    // The preset's rules (already checked by globalSetup), then the call's own.
    redact: [...(presetRedact ? compileRedactRules(presetRedactRules()) : []), ...compileRedactRules(options.redact)],
  };
}

/**
 * A client with a key prefix (ioredis `keyPrefix`) sees only the keys under it, by their names without it:
 * so does its capture (SCAN MATCH the escaped prefix; globs apply to the names without it). The snapshot then
 * holds the names the application uses, the same whatever prefix a run chose.
 */
function withPrefix(p: Plan, prefix: Buffer | undefined): Plan {
  if (!prefix || prefix.length === 0) return p;
  const escaped = escapeGlob(prefix);
  const userMatch = p.serverMatch;
  const rest = p.filter;
  const n = prefix.length;
  return {
    ...p,
    prefix,
    serverMatch: Buffer.concat([escaped, Buffer.isBuffer(userMatch) ? userMatch : Buffer.from(userMatch ?? '*', 'utf8')]),
    filter: (key) => key.length >= n && key.subarray(0, n).equals(prefix) && (!rest || rest(key.subarray(n))),
  };
}

/**
 * Reads every key of the Redis keyspace (or those selected by `match`/`exclude`): its type, its TTL and its
 * whole value, for strings, hashes, lists, sets, sorted sets and streams. Uses SCAN, never KEYS; each page
 * of keys is read in one round trip by a Lua script (or pipelined commands where scripts are not allowed,
 * and on a cluster). Returns plain data branded for the snapshot serializer.
 *
 * `client` is an ioredis client or Cluster, a node-redis v5 or v6 client, or a RedisAdapter.
 *
 * @example
 * const snap = await captureKeyspace(redis, { match: 'user:*', redact: ['session:*', /token/] });
 * expect(snap).toMatchSnapshot();
 */
export function captureKeyspace(client: unknown, options: CaptureKeyspaceOptions = {}): Promise<KeyspaceSnapshot> {
  return readKeyspace(client, options, true);
}

/**
 * captureKeyspace without the preset's `redact` rules (a call's own still apply): for the library's own
 * comparisons (toBeConsistentWith compares the real values, and redacts what it prints).
 */
export async function readKeyspace(client: unknown, options: CaptureKeyspaceOptions, presetRedact: boolean): Promise<KeyspaceSnapshot> {
  const adapter = toRedisAdapter(client);
  if (!adapter) throw new NotARedisClientError('captureKeyspace', describeValue(client));
  const p = withPrefix(plan(options, presetRedact), adapter.keyPrefix);
  await adapter.ready();
  const sink: Sink = { entries: [], others: [], name: nameWithout(p.prefix) };
  try {
    for (const shard of adapter.shards()) await captureShard(shard, p, sink);
  } catch (err) {
    // A connection that closed or dropped during the capture: report that, not the command that noticed.
    await adapter.ready();
    throw err;
  }
  return buildSnapshot(sink, p);
}

interface ShardState {
  /** Multi-key commands (MGET) work here: false on a cluster, or after a refusal. */
  multiKey: boolean;
  /** Scripts run on this shard (false after a refusal: ACL, scripting disabled, CROSSSLOT, ...). */
  script: boolean;
  /** Some key of the server has a TTL (INFO keyspace `expires`): TTLs must be read key by key. */
  volatile: boolean;
}

/** INFO keyspace says whether any key has a TTL; when it cannot be asked, assume some do. */
async function hasVolatileKeys(shard: RedisAdapter): Promise<boolean> {
  try {
    const info = textOf(await shard.send('INFO', 'keyspace'));
    return [...info.matchAll(/expires=(\d+)/g)].some((m) => Number(m[1]) > 0);
  } catch {
    return true;
  }
}

/** What a capture learns of a server before reading it. */
interface ServerFacts {
  /** Some key has a TTL (INFO keyspace `expires`); true when that cannot be asked. */
  volatile: boolean;
  /**
   * A server the library started: where its SAVE writes, the client's database, its keys and the server's, and
   * the memory its data takes (INFO memory `used_memory_dataset`: more than the file SAVE writes).
   */
  own?: { server: OwnServer; db: number; dbKeys: number; totalKeys: number; datasetBytes: number };
}

/**
 * INFO keyspace (does any key have a TTL?); and where some server may be the library's own (started by
 * startRedisServer, here or by the preset), also INFO server (its run_id), INFO memory (its data's size) and
 * CLIENT INFO (the client's database), in the same round trip. Nothing else is ever sent to a server the library
 * did not start.
 */
async function serverFacts(shard: RedisAdapter): Promise<ServerFacts> {
  if (!shard.multiKey || !mayHaveOwnServers()) return { volatile: await hasVolatileKeys(shard) };
  let replies: Array<RedisReply | Error>;
  try {
    replies = await shard.batch([['INFO', 'keyspace'], ['INFO', 'server'], ['CLIENT', 'INFO'], ['INFO', 'memory']]);
  } catch {
    return { volatile: true };
  }
  const keyspace = replies[0] instanceof Error ? undefined : textOf(replies[0]);
  const volatile = keyspace === undefined || [...keyspace.matchAll(/expires=(\d+)/g)].some((m) => Number(m[1]) > 0);
  const runId = /run_id:([0-9a-f]+)/.exec(textOf(replies[1]))?.[1];
  const db = /(?:^| )db=(\d+)/.exec(textOf(replies[2]))?.[1];
  const server = runId ? ownServer(runId) : undefined;
  if (!server || db === undefined || keyspace === undefined) return { volatile };
  let dbKeys = 0;
  let totalKeys = 0;
  for (const m of keyspace.matchAll(/^db(\d+):keys=(\d+)/gm)) {
    totalKeys += Number(m[2]);
    if (m[1] === db) dbKeys = Number(m[2]);
  }
  const datasetBytes = Number(/used_memory_dataset:(\d+)/.exec(textOf(replies[3]))?.[1] ?? NaN);
  return { volatile, own: { server, db: Number(db), dbKeys, totalKeys, datasetBytes } };
}

async function captureShard(shard: RedisAdapter, p: Plan, sink: Sink): Promise<void> {
  const facts = await serverFacts(shard);
  const state: ShardState = { multiKey: shard.multiKey, script: shard.multiKey, volatile: facts.volatile };
  if (facts.own && (await captureFromRdb(shard, p, state, sink, facts.own))) return;
  const inflight: Array<Promise<void>> = [];
  let failure: unknown;
  const note = (err: unknown) => {
    failure ??= err;
  };
  try {
    const pages = state.volatile && state.script && !p.filter ? scanAndRead(shard, p, state) : scanKeys(shard, p);
    for await (const page of pages) {
      if (failure !== undefined) break;
      const { keys, read } = Array.isArray(page) ? { keys: page, read: undefined } : page;
      if (keys.length === 0) continue;
      const done = read ? collectBatch(shard, keys, read[0], read[1], p, state, sink) : readBatch(shard, keys, p, state, sink);
      inflight.push(done.catch(note));
      // Several batches in flight: the server works on the next while this process decodes the last.
      if (inflight.length >= MAX_IN_FLIGHT) await inflight.shift();
    }
  } catch (err) {
    note(err);
  }
  await Promise.all(inflight);
  if (failure !== undefined) {
    throw failure instanceof KeyspaceReadError || isConnectionError(failure) ? failure : new KeyspaceReadError(undefined, failure);
  }
}

/**
 * When a capture on the library's own server reads an RDB snapshot: from `minKeys` keys in the client's database,
 * and when that database holds at least `minShare` of the server's keys (SAVE writes every database). Below, the
 * SAVE (every key written to a file, the file read) costs more than the pages it saves. (Tests move them.)
 */
export const rdbCapture = { minKeys: 1000, minShare: 0.5, /** Captures (of one server) read from an RDB snapshot so far. */ used: 0 };

/** Free space left beside the file a SAVE would write. */
const RDB_SPARE_BYTES = 64 * 1024 ** 2;

/** Per own server (run_id): its dir and dbfilename were checked (CONFIG GET), with the result. */
const checkedDirs = new Map<string, Promise<string | undefined>>();
/** Per own server: the capture that is between its SAVE and the end of its read of the file. */
const saving = new Map<string, Promise<void>>();

/**
 * The file SAVE writes on one of the library's own servers, when it is in the folder the library gave it
 * (a `--dir` or `--dbfilename` of the user's, in `args`, would have moved it: no RDB snapshot then).
 */
function rdbPath(shard: RedisAdapter, server: OwnServer): Promise<string | undefined> {
  let checked = checkedDirs.get(server.runId);
  if (!checked) {
    checked = shard.batch([['CONFIG', 'GET', 'dir'], ['CONFIG', 'GET', 'dbfilename']]).then(
      ([dir, file]) => {
        const value = (reply: unknown) => {
          // RESP2: [name, value]; RESP3: a map, which clients hand over as a Map or an object.
          const v = Array.isArray(reply) ? (reply.length === 2 ? reply[1] : undefined) : reply instanceof Map ? [...reply.values()][0] : reply && typeof reply === 'object' && !Buffer.isBuffer(reply) ? Object.values(reply)[0] : undefined;
          return Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : '';
        };
        const name = value(file);
        return value(dir) === server.dir && name !== '' && !name.includes('/') ? join(server.dir, name) : undefined;
      },
      () => {
        checkedDirs.delete(server.runId); // the connection failed: ask again next time
        return undefined;
      },
    );
    checkedDirs.set(server.runId, checked);
  }
  return checked;
}

/**
 * On a redis-server the library started itself (never another), with at least {@link rdbCapture} `minKeys`
 * keys in the client's database: one `SAVE` into the server's private folder, the file read and deleted, and
 * the client's database read from it: strings, hashes, lists, sets and sorted sets whole, with their expiry
 * relative to the server's `TIME` read just before the SAVE (the same PTTL the key would have had then; a key
 * already expired is left out, as PTTL -2 leaves it out); streams and other encodings by name only, then read as
 * usual ({@link readOthers}: type, PTTL and value live). Collections are built by the same `collect` as the
 * replies of the usual path, from the same flat lists (HGETALL, LRANGE, SMEMBERS, ZRANGE WITHSCORES). False, with nothing collected, when it cannot be used (SAVE refused or failing, the file
 * missing, anything in it the reader does not know): the capture then reads the keyspace the usual way.
 */
async function captureFromRdb(shard: RedisAdapter, p: Plan, state: ShardState, sink: Sink, own: NonNullable<ServerFacts['own']>): Promise<boolean> {
  if (own.dbKeys < rdbCapture.minKeys || own.dbKeys < own.totalKeys * rdbCapture.minShare) return false;
  const path = await rdbPath(shard, own.server);
  if (!path) return false;
  // Room for the file (in /dev/shm, memory that other programs, PostgreSQL among them, also use): twice the data.
  try {
    const fs = await statfs(own.server.dir);
    if (!(fs.bavail * fs.bsize >= 2 * own.datasetBytes + RDB_SPARE_BYTES)) return false;
  } catch {
    return false;
  }
  // One capture at a time per server in this process, from SAVE until the file is read (it is then deleted).
  const runId = own.server.runId;
  while (saving.has(runId)) await saving.get(runId);
  let release!: () => void;
  saving.set(runId, new Promise<void>((resolve) => (release = resolve)));
  let file: Buffer;
  let nowMs: number;
  try {
    const [time, saved] = await shard.batch([['TIME'], ['SAVE']]);
    if (saved instanceof Error || !Array.isArray(time) || time.length !== 2) return false;
    nowMs = Number(textOf(time[0])) * 1000 + Math.floor(Number(textOf(time[1])) / 1000);
    file = await readFile(path);
    await unlink(path).catch(() => undefined);
  } catch (err) {
    if (isConnectionError(err)) throw err;
    return false; // the file missing (another process's capture deleted it) or unreadable: the usual path
  } finally {
    saving.delete(runId);
    release();
  }
  const entries: KeyEntry[] = [];
  const others: RedisText[] = [];
  const collections: Array<{ key: RedisText; type: string; pttl: number; flat: Buffer[] }> = [];
  const filter = rdbKeyFilter(p);
  try {
    const read = readRdb(file, own.db, {
      string(kb, ks, ke, vb, vs, ve, expireAt) {
        if (filter && !filter(kb.toString('latin1', ks, ke), kb, ks, ke)) return;
        let ttlMs: number | null = null;
        if (expireAt !== -1) {
          if (expireAt < nowMs) return; // expired: PTTL would say -2
          ttlMs = expireAt - nowMs;
        }
        entries.push({ type: 'string', key: sink.name(rangeText(kb, ks, ke)), ttlMs, value: rangeText(vb, vs, ve) });
      },
      collection(kb, ks, ke, type, flat, expireAt) {
        if (filter && !filter(kb.toString('latin1', ks, ke), kb, ks, ke)) return;
        if (expireAt !== -1 && expireAt < nowMs) return;
        collections.push({ key: rangeText(kb, ks, ke), type, pttl: expireAt === -1 ? -1 : expireAt - nowMs, flat });
      },
      other(kb, ks, ke, _type, expireAt) {
        if (filter && !filter(kb.toString('latin1', ks, ke), kb, ks, ke)) return;
        if (expireAt !== -1 && expireAt < nowMs) return;
        others.push(rangeText(kb, ks, ke));
      },
    });
    if (read.announced !== undefined && read.announced !== read.keys) throw new RdbUnsupportedError(`${read.keys} keys read, ${read.announced} announced`);
  } catch (err) {
    if (err instanceof RdbUnsupportedError || err instanceof RangeError) return false;
    throw err;
  }
  rdbCapture.used++;
  for (const e of entries) sink.entries.push(e);
  for (const c of collections) collect(sink, c.key, c.type, c.pttl, c.flat);
  // Other types: read live, by the batch script (or pipelines), in groups like the usual path.
  const groups: Array<Promise<void>> = [];
  for (let i = 0; i < others.length; i += OTHERS_PER_CALL) {
    groups.push(readOthers(shard, others.slice(i, i + OTHERS_PER_CALL), p, state, sink));
  }
  await Promise.all(groups);
  return true;
}

/** The key filter of the usual path (SCAN MATCH, the client's prefix, match/exclude globs) over a key's bytes. */
function rdbKeyFilter(p: Plan): ((latin1: string, b: Buffer, s: number, e: number) => boolean) | undefined {
  const server = p.serverMatch === undefined ? undefined : globToRegExp(p.serverMatch);
  const rest = p.filter;
  if (!server && !rest) return undefined;
  return (latin1, b, s, e) => (!server || server.test(latin1)) && (!rest || rest(b.subarray(s, e)));
}

/** Bytes [s, e) of b as RedisText: a string when valid UTF-8, else a copy of the bytes (never a view of the file). */
function rangeText(b: Buffer, s: number, e: number): RedisText {
  const text = b.toString('utf8', s, e);
  if (!text.includes('\uFFFD')) return text;
  const bytes = b.subarray(s, e);
  return isUtf8(bytes) ? text : Buffer.from(bytes);
}

/**
 * The selected keys, a SCAN page at a time, each decoded once: the entry's key and the command argument (valid
 * UTF-8 is sent as a string, which encodes back to the same bytes and is much cheaper for the client to write
 * than a Buffer). Without a filter to apply to the bytes, the client decodes them as it reads the reply.
 */
async function* scanKeys(shard: RedisAdapter, p: Plan): AsyncGenerator<RedisText[]> {
  const options = { match: p.serverMatch, count: p.batchSize };
  if (!p.filter && shard.scanText) {
    for await (const page of shard.scanText(options)) {
      yield page.map((k) => (typeof k === 'string' ? k : decode(k)));
    }
    return;
  }
  for await (const page of shard.scan(options)) yield (p.filter ? page.filter(p.filter) : page).map(decode);
}

/** A page read by {@link SCAN_READ_SCRIPT}: its keys, their string values (null for other types) and PTTLs. */
interface ReadPage {
  keys: RedisText[];
  read: [values: Array<TextReply | RedisReply>, ttls: number[]];
}

/**
 * Every page scanned and read by one script call each ({@link SCAN_READ_SCRIPT}), when the server has keys with
 * a TTL (every key's PTTL must then be read: Redis has no bulk TTL read). The next call is sent as soon as a
 * reply arrives, before that page is decoded. Keys and values come decoded by the client; a page with a key
 * holding U+FFFD is read again at the same cursor as bytes. Where scripts are refused: SCAN and {@link readBatch}.
 */
async function* scanAndRead(shard: RedisAdapter, p: Plan, state: ShardState): AsyncGenerator<ReadPage | RedisText[]> {
  const args = (cursor: string): RedisArg[] => [cursor, p.batchSize, ...(p.serverMatch !== undefined ? [p.serverMatch] : [])];
  const call = async (from: string, text: boolean) => {
    const reply = await runScript(shard, SCAN_READ_SCRIPT, SCAN_READ_SCRIPT_SHA, [], args(from), text);
    if (reply instanceof Error) return reply;
    if (!Array.isArray(reply) || reply.length !== 4 || !reply.slice(1).every(Array.isArray)) {
      throw new KeyspaceReadError(undefined, 'unexpected reply of the keyspace read script');
    }
    const [next, keys, values, ttls] = reply as [TextReply | RedisReply, Array<string | Buffer>, Array<TextReply | RedisReply>, number[]];
    const cursor = typeof next === 'string' ? next : textOf(next as RedisReply);
    return { cursor, keys: keys.map((k) => (typeof k === 'string' ? k : decode(k))), values, ttls };
  };
  const text = shard.sendText !== undefined;
  let asked = '0';
  let next = call(asked, text);
  for (;;) {
    let page = await next;
    if (!(page instanceof Error) && text && page.keys.some((k) => typeof k === 'string' && k.includes('\uFFFD'))) {
      page = await call(asked, false); // the bytes of every key of this page, and that reply's cursor
    }
    if (page instanceof Error) {
      // Scripts refused (ACL, scripting disabled), or keys of several slots (a plain client on a cluster node),
      // maybe only on a later page: the whole server again by SCAN and readBatch. A key read before the refusal
      // is read again: the snapshot keeps one entry per key, as for a key SCAN returns twice.
      if (!isReplyError(page)) throw page;
      state.script = false;
      if (/CROSSSLOT|slot|cluster/i.test(page.message)) state.multiKey = false;
      yield* scanKeys(shard, p);
      return;
    }
    const done = page.cursor === '0';
    if (!done) next = call((asked = page.cursor), text);
    yield { keys: page.keys, read: [page.values, page.ttls] };
    if (done) return;
  }
}

function isConnectionError(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ['REDIS_CONNECTION_CLOSED', 'REDIS_UNREACHABLE'].includes((err as { code?: string }).code ?? '')
  );
}

/**
 * One page of keys (from SCAN: a page the read script scanned itself goes to {@link collectBatch} directly).
 * Strings (the bulk of a cache) come from one MGET, their TTLs from one script call (only when the server has
 * keys with a TTL at all); the keys MGET has no value for are read by type, by the batch script or, without
 * scripting or on a cluster, by pipelined commands.
 */
async function readBatch(shard: RedisAdapter, keys: RedisText[], p: Plan, state: ShardState, sink: Sink): Promise<void> {
  if (!state.multiKey) return readOthers(shard, keys, p, state, sink);
  let values: Array<TextReply | RedisReply>;
  let ttls: number[] | undefined;
  try {
    [values, ttls] = await readValuesAndTtls(shard, keys, state);
  } catch (err) {
    // A cluster node reached by a plain client (CROSSSLOT), or an ACL without MGET: key by key from now on.
    if (!isReplyError(err)) throw err;
    state.multiKey = false;
    if (/CROSSSLOT/.test((err as Error).message)) state.script = false;
    return readOthers(shard, keys, p, state, sink);
  }
  return collectBatch(shard, keys, values, ttls, p, state, sink);
}

/**
 * The entries of a page whose string values (null for other types) and PTTLs were read; the other keys read by
 * type (by the batch script or pipelines), a value holding U+FFFD read again as bytes.
 */
async function collectBatch(
  shard: RedisAdapter,
  keys: RedisText[],
  values: Array<TextReply | RedisReply>,
  ttls: number[] | undefined,
  p: Plan,
  state: ShardState,
  sink: Sink,
): Promise<void> {
  // Decode after the replies that arrived with these were handled (the next SCAN page above all): the
  // server then has the next batches queued while this process decodes.
  await yieldToIo();
  const others: RedisText[] = [];
  const suspect: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const value = values[i];
    const pttl = ttls ? ttls[i]! : -1;
    if (pttl === -2) continue; // deleted or expired since SCAN
    if (typeof value === 'string') {
      // Decoded by the client: exact unless it holds U+FFFD (invalid bytes, or a real U+FFFD): re-read those.
      if (value.includes('\uFFFD')) suspect.push(i);
      else sink.entries.push({ type: 'string', key: sink.name(keys[i]!), ttlMs: pttl >= 0 ? pttl : null, value });
    } else if (Buffer.isBuffer(value)) {
      collectString(sink, keys[i]!, pttl, value);
    } else {
      others.push(keys[i]!);
    }
  }
  if (suspect.length > 0) {
    const exact = await shard.batch(suspect.map((i): RedisCommand => ['GET', keys[i]!]));
    suspect.forEach((i, j) => {
      const value = exact[j];
      if (Buffer.isBuffer(value)) collectString(sink, keys[i]!, ttls ? ttls[i]! : -1, value);
      else if (value instanceof Error) others.push(keys[i]!); // no longer a string
    });
  }
  // Collections in small groups: a group's reply holds up to chunkSize elements per key.
  const groups: Array<Promise<void>> = [];
  for (let i = 0; i < others.length; i += OTHERS_PER_CALL) {
    groups.push(readOthers(shard, others.slice(i, i + OTHERS_PER_CALL), p, state, sink));
  }
  await Promise.all(groups);
}

/**
 * The string values of a batch (null for other types) and, when the server has keys with a TTL, their PTTLs:
 * one script call doing MGET and PTTL (keys sent once), else MGET and pipelined PTTL commands. Values come
 * decoded by the client where the adapter can (`sendText`), else as Buffers.
 */
async function readValuesAndTtls(
  shard: RedisAdapter,
  keys: RedisText[],
  state: ShardState,
): Promise<[Array<TextReply | RedisReply>, number[] | undefined]> {
  const n = keys.length;
  if (state.volatile && state.script) {
    const reply = await runScript(shard, VALUES_TTL_SCRIPT, VALUES_TTL_SCRIPT_SHA, keys, [], true);
    if (Array.isArray(reply) && reply.length === 2 * n) return [reply.slice(0, n), reply.slice(n) as number[]];
    state.script = false;
  }
  const [values, ttls] = await Promise.all([
    shard.sendText ? shard.sendText('MGET', ...keys) : shard.send('MGET', ...keys),
    state.volatile ? shard.batch(keys.map((k): RedisCommand => ['PTTL', k])) : undefined,
  ]);
  if (!Array.isArray(values) || values.length !== n) throw new KeyspaceReadError(undefined, 'unexpected MGET reply');
  return [values, ttls?.map((r, i) => check(r, keys[i]!) as number)];
}

/**
 * A script over `keys` (EVALSHA, loading it with EVAL on NOSCRIPT); the error, returned, when it fails (scripts
 * refused: ACL, scripting disabled, CROSSSLOT, ...). `text`: strings decoded by the client, where the adapter can.
 */
async function runScript(
  shard: RedisAdapter,
  script: string,
  sha: string,
  keys: RedisText[],
  args: RedisArg[],
  text = false,
): Promise<RedisReply | TextReply | Error> {
  const send = (command: string, ...rest: RedisArg[]): Promise<RedisReply | TextReply> =>
    text && shard.sendText ? shard.sendText(command, ...rest) : shard.send(command, ...rest);
  try {
    return await send('EVALSHA', sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!/NOSCRIPT/.test(String((err as Error)?.message))) return toError(err);
    try {
      return await send('EVAL', script, keys.length, ...keys, ...args);
    } catch (err2) {
      return toError(err2);
    }
  }
}

/** Keys that are not strings (or gone): type, TTL and value by the batch script, else by pipelines. */
async function readOthers(shard: RedisAdapter, keys: RedisText[], p: Plan, state: ShardState, sink: Sink): Promise<void> {
  if (state.script) {
    if (await readWithScript(shard, keys, p.chunkSize, sink)) return;
    state.script = false; // scripting not allowed here: pipelines from now on
  }
  const raw = await readWithPipeline(shard, keys, p.chunkSize);
  for (const e of raw) {
    if (e.value === undefined && e.type in SIZE_COMMAND) e.value = await readLarge(shard, e.key, e.type, p.chunkSize);
    collect(sink, e.key, e.type, e.pttl, e.value);
  }
}

/** False when scripts cannot run on this server (disabled, ACL, read-only replica, CROSSSLOT, ...). */
async function readWithScript(shard: RedisAdapter, keys: RedisText[], chunkSize: number, sink: Sink): Promise<boolean> {
  const reply = await runScript(shard, READ_SCRIPT, READ_SCRIPT_SHA, keys, [chunkSize]);
  const n = keys.length;
  if (!Array.isArray(reply) || reply.length !== n * 2) return false;
  for (let i = 0; i < n; i++) {
    const pttl = reply[i] as number;
    const value = reply[n + i];
    if (pttl === -2) continue; // deleted or expired since SCAN
    if (Buffer.isBuffer(value)) {
      collectString(sink, keys[i]!, pttl, value);
      continue;
    }
    const [typeReply, , items] = value as [Buffer, number, RedisReply[] | null];
    const type = textOf(typeReply);
    if (type === 'none') continue;
    const raw = items ?? (type in SIZE_COMMAND ? await readLarge(shard, keys[i]!, type, chunkSize) : undefined);
    collect(sink, keys[i]!, type, pttl, raw);
  }
  return true;
}

/** An error reply of the server (as opposed to a connection failure). */
function isReplyError(err: unknown): boolean {
  const e = err as { name?: string; constructor?: { name?: string }; code?: string } | null;
  if (!e || typeof e !== 'object' || e.code === 'REDIS_CONNECTION_CLOSED' || e.code === 'REDIS_UNREACHABLE') return false;
  const name = e.constructor?.name ?? e.name ?? '';
  return /ReplyError|SimpleError|ErrorReply/.test(name) || /^[A-Z]+ /.test(String((err as Error).message));
}

function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function textOf(reply: RedisReply | Error | undefined): string {
  return Buffer.isBuffer(reply) ? reply.toString('latin1') : typeof reply === 'number' ? String(reply) : '';
}

function check(reply: RedisReply | Error | undefined, key: RedisText): RedisReply {
  if (reply instanceof Error) throw new KeyspaceReadError(key.toString(), reply);
  return reply ?? null;
}

async function readWithPipeline(
  shard: RedisAdapter,
  keys: RedisText[],
  chunkSize: number,
): Promise<RawEntry[]> {
  const meta = await shard.batch(keys.flatMap((k): RedisCommand[] => [['TYPE', k], ['PTTL', k]]));
  const live: RawEntry[] = [];
  keys.forEach((key, i) => {
    const type = textOf(check(meta[i * 2], key));
    const pttl = check(meta[i * 2 + 1], key);
    if (type === 'none' || pttl === -2) return;
    live.push({ key, type, pttl: typeof pttl === 'number' ? pttl : -1, value: undefined });
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

function fullRead(type: string, key: RedisText): RedisCommand {
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
async function readLarge(shard: RedisAdapter, key: RedisText, type: string, chunkSize: number): Promise<RedisReply[]> {
  const send = async (command: string, ...args: Array<string | number | Buffer>) => {
    try {
      return await shard.send(command, ...args);
    } catch (err) {
      throw new KeyspaceReadError(key.toString(), err);
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

/**
 * Decodes bytes to a string when they are valid UTF-8. Fast path: invalid bytes always decode to U+FFFD, so
 * a string without it is exact; only one with it (invalid bytes, or a real U+FFFD) is checked in full.
 */
function decode(bytes: Buffer): RedisText {
  const text = bytes.toString('utf8');
  return !text.includes('\uFFFD') || isUtf8(bytes) ? text : bytes;
}


/** Strips the client's key prefix from a key read by SCAN (which starts with it). */
function nameWithout(prefix: Buffer | undefined): (key: RedisText) => RedisText {
  if (!prefix) return (key) => key;
  const text = decode(prefix);
  return (key) =>
    typeof key === 'string' && typeof text === 'string' && key.startsWith(text)
      ? key.slice(text.length)
      : decode(redisTextBytes(key).subarray(prefix.length));
}

function collectString(sink: Sink, key: RedisText, pttl: number, value: Buffer): void {
  sink.entries.push({ type: 'string', key: sink.name(key), ttlMs: pttl >= 0 ? pttl : null, value: decode(value) });
}

/** Builds a typed entry from raw replies (or an "other type" entry for a type this library does not read). */
function collect(sink: Sink, fullKey: RedisText, type: string, pttl: number, raw: RawValue | undefined): void {
  if (type === 'string') {
    if (Buffer.isBuffer(raw)) collectString(sink, fullKey, pttl, raw);
    return;
  }
  const key = sink.name(fullKey);
  const ttlMs = pttl >= 0 ? pttl : null;
  const list = Array.isArray(raw) ? raw : [];
  switch (type) {
    case 'hash':
      sink.entries.push({
        type: 'hash',
        key,
        ttlMs,
        value: pairs(list)
          .sort((a, b) => byBytes(a[0], b[0]))
          .map(([f, v]): [RedisText, RedisText] => [decode(f), decode(v)]),
      });
      return;
    case 'list':
      sink.entries.push({ type: 'list', key, ttlMs, value: (list as Buffer[]).map(decode) });
      return;
    case 'set':
      sink.entries.push({ type: 'set', key, ttlMs, value: [...(list as Buffer[])].sort(byBytes).map(decode) });
      return;
    case 'zset':
      sink.entries.push({
        type: 'zset',
        key,
        ttlMs,
        value: pairs(list)
          .map(([m, s]) => ({ bytes: m, score: parseScore(s) }))
          .sort((a, b) => (a.score === b.score ? byBytes(a.bytes, b.bytes) : a.score < b.score ? -1 : 1))
          .map(({ bytes, score }) => ({ member: decode(bytes), score })),
      });
      return;
    case 'stream':
      sink.entries.push({
        type: 'stream',
        key,
        ttlMs,
        value: (list as RedisReply[][]).map(([id, fields]) => ({
          id: textOf(id),
          fields: pairs((fields as RedisReply[] | null) ?? []).map(([f, v]): [RedisText, RedisText] => [decode(f), decode(v)]),
        })),
      });
      return;
    default:
      sink.others.push({ key, type, ttlMs });
  }
}

function buildSnapshot(sink: Sink, p: Plan): KeyspaceSnapshot {
  const entries = sortByKey(sink.entries);
  if (p.redact.length > 0) for (const entry of entries) redactEntry(entry, p.redact);
  const otherTypes = sortByKey(sink.others);
  const snapshot: KeyspaceSnapshot = { [KEYSPACE_BRAND]: true, entries, otherTypes, print: p.print };
  // Not enumerable: two captures of the same keyspace stay equal (toEqual), whenever they were read.
  Object.defineProperty(snapshot, 'capturedAtMs', { value: Date.now(), enumerable: false });
  return snapshot;
}
