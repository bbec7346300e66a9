import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import { redactUrl } from '../db/databaseUrl';
import { ExternalRedisError } from '../errors';

/**
 * An existing Redis server the user pointed the preset at (`redis.url`). The library never deletes data it
 * did not write there: each worker owns either a database index (`isolation: 'database'`, which needs
 * `allowFlush: true` and an empty index at start) or a key prefix unique to this Jest process
 * (`isolation: 'prefix'`, nothing else is ever touched).
 */
export interface ExternalClaim {
  urls: string[];
  isolation: 'database' | 'prefix';
  databases: number[];
  keyPrefixes: string[];
  /**
   * `isolation: 'database'`: a connection held open for the whole run, named after the indexes it claims
   * (CLIENT SETNAME jcc-claim-<run>-db<first>-<last>). Another run sees the name in CLIENT LIST and refuses; a
   * killed run's claim ends with its connection. Closed by releaseExternalRedis.
   */
  holder?: { disconnect(): void };
}

/**
 * Names a claiming connection carries. `jcc-claiming-...` while it checks (announced before it looks, so of two
 * runs claiming at the same moment at least one sees the other), `jcc-claim-...` once the indexes are its own.
 */
const CLAIM_NAME = /^jcc-(claim|claiming)-(\S+)-db(\d+)-(\d+)$/;

interface SeenClaims {
  /** Runs that hold an overlapping claim, for the message. */
  held: string[];
  /** Runs in the middle of claiming overlapping indexes. */
  claiming: number;
}

/**
 * Claims on indexes from..to by connections other than `self`, per CLIENT LIST; undefined when CLIENT LIST is
 * not allowed (ACLs on managed servers: the emptiness check is then all there is).
 */
async function claimsElsewhere(client: Redis, self: number, from: number, to: number): Promise<SeenClaims | undefined> {
  let list: string;
  try {
    list = String(await client.client('LIST'));
  } catch {
    return undefined;
  }
  const seen: SeenClaims = { held: [], claiming: 0 };
  for (const line of list.split('\n')) {
    const name = /\bname=(\S+)/.exec(line)?.[1];
    const claim = name === undefined ? null : CLAIM_NAME.exec(name);
    if (!claim || Number(/\bid=(\d+)/.exec(line)?.[1]) === self) continue;
    const [a, b] = [Number(claim[3]), Number(claim[4])];
    if (a > to || from > b) continue;
    if (claim[1] === 'claim') seen.held.push(`db ${a === b ? a : `${a}..${b}`} (Jest run ${claim[2]})`);
    else seen.claiming++;
  }
  return seen;
}

/** How often a run that met another run claiming at the same moment steps back and tries again. */
const CLAIM_ATTEMPTS = 50;

export interface ExternalRedisOptions {
  url: string;
  isolation: 'database' | 'prefix';
  allowFlush: boolean;
}

/** Deletes every key under a prefix, in the server, in one call: SCAN + UNLINK inside a script. */
export const DELETE_PREFIX_SCRIPT = `
local cursor = '0'
local n = 0
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do redis.call('UNLINK', k); n = n + 1 end
until cursor == '0'
return n`;

/** Escapes glob characters so a prefix matches literally in SCAN MATCH. */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function connect(url: string): Redis {
  const IORedis = require('ioredis') as typeof import('ioredis').default;
  return new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
}

function withDb(url: string, db: number): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function claimExternalRedis(options: ExternalRedisOptions, workers: number, runId: number): Promise<ExternalClaim> {
  const client = connect(options.url);
  const shown = redactUrl(options.url);
  let holder: Redis | undefined;
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      throw new ExternalRedisError(
        'EXTERNAL_REDIS_UNREACHABLE',
        shown,
        `redis.url ${shown} does not answer PING: ${(err as Error).message}.\nStart that server, fix the URL, or remove redis.url to let the library start its own.`,
        err,
      );
    }
    if (options.isolation === 'prefix') {
      // The pid alone repeats across containers (Jest is often pid 1 or 7 there): add randomness.
      const run = `${runId}-${randomBytes(4).toString('hex')}`;
      const keyPrefixes = Array.from({ length: workers }, (_, i) => `jcc:${run}:${i + 1}:`);
      return { urls: keyPrefixes.map(() => options.url), isolation: 'prefix', databases: [], keyPrefixes };
    }
    const path = new URL(options.url).pathname.replace('/', '');
    const base = path ? Number(path) : 1;
    const databases = Array.from({ length: workers }, (_, i) => base + i);
    const range = workers === 1 ? `db ${base}` : `db ${base}..${base + workers - 1}`;
    if (!options.allowFlush)
      throw new ExternalRedisError(
        'EXTERNAL_REDIS_FLUSH_NOT_ALLOWED',
        shown,
        `redis.url points at a server the library did not start. With isolation 'database' every worker empties its own ` +
          `database index before each test (here ${range}), and the library never flushes a server it did not start unless told so.\n` +
          `Set redis.allowFlush: true to allow FLUSHDB of exactly ${range} (nothing else), or use redis.isolation: 'prefix', which only ever deletes keys under this run's own prefix.`,
      );
    let available = 16;
    try {
      const reply = (await client.config('GET', 'databases')) as string[];
      if (reply[1]) available = Number(reply[1]);
    } catch {
      /* CONFIG may be disabled on managed servers: assume the default of 16 */
    }
    if (base + workers > available)
      throw new ExternalRedisError(
        'EXTERNAL_REDIS_TOO_FEW_DATABASES',
        shown,
        `${workers} workers need ${range}, but the server has ${available} databases (0..${available - 1}).\nLower --maxWorkers, choose a lower first index in the URL path (redis://host:port/<index>), or use isolation: 'prefix'.`,
      );
    const last = base + workers - 1;
    // Announce, then look: of two runs claiming at the same moment at least one sees the other. One that sees
    // only runs still claiming steps back (drops its name) and tries again after a random pause, so one of them
    // gets the indexes and the others then find them held.
    const self = Number(await client.client('ID'));
    const claiming = `jcc-claiming-${runId}-db${base}-${last}`;
    for (let attempt = 1; ; attempt++) {
      const named = await client.client('SETNAME', claiming).then(
        () => true,
        () => false, // CLIENT may be forbidden: no claim is possible, only the emptiness check
      );
      const seen = named ? await claimsElsewhere(client, self, base, last) : undefined;
      if (!seen || (seen.held.length === 0 && seen.claiming === 0)) break;
      if (seen.held.length > 0 || attempt === CLAIM_ATTEMPTS) {
        const taken = seen.held.length > 0 ? seen.held : [`db ${base === last ? base : `${base}..${last}`} (another run claiming it at the same moment)`];
        throw new ExternalRedisError(
          'EXTERNAL_REDIS_CLAIMED',
          shown,
          `redis.url ${shown}: ${taken.join(', ')} ${taken.length === 1 ? 'is' : 'are'} in use by another Jest run right now. Nothing was deleted.\n` +
            `Wait for it, or give this run other indexes: redis://host:port/<first index> (or use isolation: 'prefix').`,
        );
      }
      await client.client('SETNAME', '');
      await new Promise((res) => setTimeout(res, 2 + Math.random() * 10 * attempt));
    }
    const held: string[] = [];
    for (const db of databases) {
      await client.select(db);
      const n = await client.dbsize();
      if (n > 0) held.push(`db ${db} holds ${n} key${n === 1 ? '' : 's'}`);
    }
    if (held.length)
      throw new ExternalRedisError(
        'EXTERNAL_REDIS_NOT_EMPTY',
        shown,
        `redis.url ${shown}: ${held.join(', ')} that this run did not write. Nothing was deleted.\n` +
          `Empty them yourself if they are disposable (redis-cli -n <index> FLUSHDB), or point at free indexes: redis://host:port/<first index>.`,
      );
    // Keep this connection for the whole run: its name is the claim other runs check.
    await client.client('SETNAME', `jcc-claim-${runId}-db${base}-${last}`).catch(() => undefined);
    holder = client;
    return { urls: databases.map((db) => withDb(options.url, db)), isolation: 'database', databases, keyPrefixes: [], holder: client };
  } finally {
    if (holder !== client) client.disconnect();
  }
}

/** At teardown: removes what this run wrote, and only that. */
export async function releaseExternalRedis(url: string, claim: ExternalClaim): Promise<void> {
  const client = connect(url);
  try {
    await client.connect();
    if (claim.isolation === 'prefix') {
      for (const prefix of claim.keyPrefixes) await client.eval(DELETE_PREFIX_SCRIPT, 0, `${globEscape(prefix)}*`);
    } else {
      for (const db of claim.databases) {
        await client.select(db);
        await client.flushdb();
      }
    }
  } catch {
    /* the server went away: nothing of ours is left to clean there */
  } finally {
    client.disconnect();
    claim.holder?.disconnect();
  }
}
