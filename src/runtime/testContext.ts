import { closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Cluster, default as Redis } from 'ioredis';
import type { TestDb } from '../db/embedded';
import type { RealDatabase, MysqlTestDb, PostgresTestDb } from '../db/realTestDb';
import type { PresetNotActiveError as NotActive } from '../errors';
import { CLEANUP, FILE_INFO, type CleanupSlot, type FileInfo, type FileInfoSlot } from '../preset/cleanup';
import { readState, type PresetState } from '../preset/state';

/*
 * The setup file loads this module in every test file: what only some files need (the embedded database, the
 * reset connection, the external-server helpers) is required where it is used.
 */
const embedded = () => require('../db/embedded') as typeof import('../db/embedded');
// Kept once loaded: the reset at a file's end runs in the environment's teardown, when Jest refuses `require`.
let resetConnectionModule: typeof import('../redis/resetConnection') | undefined;
let externalRedisModule: typeof import('../server/externalRedis') | undefined;
const resetConnection = () => (resetConnectionModule ??= require('../redis/resetConnection') as typeof import('../redis/resetConnection'));
const externalRedis = () => (externalRedisModule ??= require('../server/externalRedis') as typeof import('../server/externalRedis'));
let ioredisModule: typeof import('ioredis').default | undefined;
const ioredis = () => (ioredisModule ??= require('ioredis') as typeof import('ioredis').default);

/** The file now has its Redis server: load what emptying it takes while loading is still allowed. */
function handOut(s: PresetState): void {
  resetConnection();
  if (s.external) {
    externalRedis();
    ioredis(); // the reset on an external server goes through ioredis
  }
  const file = fileInfo();
  if (!file) {
    // Not in a file under the preset's environment. Outside any test file (a globalSetup of yours handing
    // redisUrl() to the app through the environment), test files may then reach the server without asking,
    // so every test empties it; worker processes inherit the variable. (Under another environment or Vitest
    // every test empties it anyway.)
    process.env[EVERY_TEST_ENV] = '1';
    return;
  }
  if (file.emptyRedis) return;
  file.emptyRedis = () => emptyOwnRedis(s);
  registerCleanup(); // closes the reset connection that emptying opens
}

/** Set when the server was handed out outside a test file: then Redis is emptied before every test. */
const EVERY_TEST_ENV = 'JEST_CACHE_CONSISTENCY_RESET_EVERY_TEST';

/** What the preset's environment tells this file (undefined under another environment, and under Vitest). */
function fileInfo(): FileInfo | undefined {
  return (globalThis as unknown as FileInfoSlot)[FILE_INFO];
}

/*
 * Per-test-file state. Jest gives every test file its own module registry, so module scope here is
 * exactly "this test file".
 */
let client: Redis | Cluster | undefined;
let db: TestDb | undefined;
/** `database.kind` 'postgres' | 'mysql': this worker's own database (its pool, and the reset's connection). */
let realDb: RealDatabase | undefined;
/** How the per-test reset talks to a server: a bare RESP connection, or ioredis for external servers. */
interface Resetter {
  command(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
}
/**
 * How this file empties Redis, worked out once (the state does not change while a file runs): one connection per
 * server to reset (the worker's server, or every master of its cluster) and the commands each gets.
 */
let resetPlan: { resets: Resetter[]; commands: string[][] } | undefined;
let cleanupRegistered = false;

function state(what: string): PresetState {
  const s = readState();
  if (!s) {
    const { PresetNotActiveError } = require('../errors') as { PresetNotActiveError: typeof NotActive };
    throw new PresetNotActiveError(what);
  }
  return s;
}

/** Registers closing of this file's connections to run after every afterAll hook (see the environment). */
function registerCleanup(): void {
  if (cleanupRegistered) return;
  const slot = (globalThis as unknown as CleanupSlot)[CLEANUP];
  if (!slot) return; // not our environment: setup.ts closes in its own afterAll instead
  cleanupRegistered = true;
  slot.push(closeTestContext);
}

/**
 * The URL of this Jest worker's own redis-server (`redis://127.0.0.1:<port>`), for clients you build
 * yourself: node-redis, a service's own config, a second ioredis connection.
 */
export function redisUrl(): string {
  const url = ownRedisUrl('redisUrl()');
  handOut(state('redisUrl()'));
  return url;
}

/** This worker's Redis URL, for the library's own use (does not count as handing the server out). */
function ownRedisUrl(what: string): string {
  const { redisUrls } = state(what);
  return redisUrls[workerIndex(redisUrls.length)]!;
}

/**
 * The variable that numbers this worker 1..maxWorkers: JEST_WORKER_ID under Jest; the Vitest setup file
 * (jest-cache-consistency/vitest) switches to VITEST_POOL_ID. Chosen by the runner, not by which variable is
 * set: a Vitest run started from a Jest worker inherits JEST_WORKER_ID, and the other way round.
 */
let workerIdVariable: 'JEST_WORKER_ID' | 'VITEST_POOL_ID' = 'JEST_WORKER_ID';

/** Called by the Vitest setup file. */
export function useWorkerIdVariable(name: 'JEST_WORKER_ID' | 'VITEST_POOL_ID'): void {
  workerIdVariable = name;
}

/** This worker's number, from 1 (1 when running in band or when the variable is not set). */
export function workerId(): number {
  const worker = Number(process.env[workerIdVariable] ?? '1');
  return Number.isInteger(worker) && worker > 0 ? worker : 1;
}

/** This worker's server, by its worker number (see workerId). */
function workerIndex(servers: number): number {
  return (workerId() - 1) % servers;
}

/** Where the library's own connections go: the unix socket (lower latency) when there is one, else TCP. */
function ownEndpoint(what: string): { path: string } | { url: string } {
  const s = state(what);
  const socket = s.redisSockets[workerIndex(s.redisSockets.length)];
  return socket ? { path: socket } : { url: s.redisUrls[workerIndex(s.redisUrls.length)]! };
}

/**
 * With an external server and `isolation: 'prefix'`, the key prefix this worker owns (testRedis() applies it
 * to every command; give it to clients you build yourself). `''` otherwise.
 */
export function redisKeyPrefix(): string {
  const { external } = state('redisKeyPrefix()');
  return external?.isolation === 'prefix' ? external.keyPrefixes[workerIndex(external.keyPrefixes.length)]! : '';
}

/**
 * Empties what this worker owns on its Redis: the whole server it started (FLUSHALL), its database index on an
 * external server (FLUSHDB), or the keys under its prefix (nothing else).
 */
function resetCommands(s: PresetState): string[][] {
  const ext = s.external;
  if (!ext) return [['FLUSHALL']];
  // The external resetter is an ioredis client on this worker's URL, so it sits on the right database index.
  if (ext.isolation === 'database') return [['FLUSHDB']];
  const { DELETE_PREFIX_SCRIPT, globEscape } = externalRedis();
  return [['EVAL', DELETE_PREFIX_SCRIPT, '0', `${globEscape(redisKeyPrefix())}*`]];
}

/** This worker's cluster (redis.cluster), or undefined. */
function ownCluster(what: string): NonNullable<PresetState['clusters']>[number] | undefined {
  const { clusters } = state(what);
  return clusters?.[workerIndex(clusters.length)];
}

/**
 * With `redis.cluster`, this worker's cluster masters as ioredis startup nodes (`new Cluster(redisClusterNodes())`).
 * Without it, the single server, so code written for both works.
 */
export function redisClusterNodes(): Array<{ host: string; port: number }> {
  const cluster = ownCluster('redisClusterNodes()');
  handOut(state('redisClusterNodes()'));
  if (cluster) return cluster.masters.map(({ host, port }) => ({ host, port }));
  return [tcpAddress(ownRedisUrl('redisClusterNodes()'))];
}

/**
 * An ioredis client on this worker's own redis-server. The same client for the whole test file; its keyspace
 * is empty at the start of every test. Closed by the library after the file's last afterAll hook.
 *
 * With `redis.cluster` it is an ioredis `Cluster` on this worker's own cluster: say so in the type argument,
 * `testRedis<Cluster>()`.
 */
export function testRedis<T extends Redis | Cluster = Redis>(): T {
  handOut(state('testRedis()'));
  if (!client || client.status === 'end') {
    // Loaded on first use: test files that never call testRedis() don't pay for ioredis.
    const IORedis = ioredis();
    const cluster = ownCluster('testRedis()');
    if (cluster) {
      client = new IORedis.Cluster(redisClusterNodes(), { redisOptions: { maxRetriesPerRequest: 2 } });
      registerCleanup();
      return client as T;
    }
    const endpoint = ownEndpoint('testRedis()');
    const keyPrefix = redisKeyPrefix();
    const options = { lazyConnect: false, maxRetriesPerRequest: 2, ...(keyPrefix ? { keyPrefix } : {}) };
    // Over the socket, `options` still names the same server's TCP address: without it ioredis fills in its
    // defaults (localhost:6379), and a client built from `testRedis().options` by host and port (node-redis, a
    // service's config) would reach whatever Redis listens there.
    client = 'path' in endpoint ? new IORedis({ ...options, ...tcpAddress(ownRedisUrl('testRedis()')), path: endpoint.path }) : new IORedis(endpoint.url, options);
    registerCleanup();
  }
  return client as T;
}

/** `redis://host:port` as ioredis' host and port. */
function tcpAddress(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port) };
}

/** This worker's real database (`database.kind` 'postgres' | 'mysql'), or undefined for pg-mem. */
function ownRealDatabase(s: PresetState): RealDatabase | undefined {
  if (!s.database) return undefined;
  if (!realDb) {
    // Loaded on first use: files on pg-mem never load the real-database code and its drivers.
    const { RealDatabase: Real } = require('../db/realTestDb') as typeof import('../db/realTestDb');
    realDb = new Real(s.database, workerIndex(s.database.urls.length));
    registerCleanup();
  }
  return realDb;
}

/**
 * This test file's embedded pg-mem database with the configured schema, back to the state right after the
 * schema at the start of every test.
 *
 * With `database.kind: 'postgres'` or `'mysql'` it is this worker's own database on that server instead
 * (docs/real-databases.md): say so in the type argument, `testDb<PostgresTestDb>()` / `testDb<MysqlTestDb>()`.
 */
export function testDb<T extends TestDb | PostgresTestDb<unknown> | MysqlTestDb<unknown> = TestDb>(): T {
  if (!db) {
    const s = state('testDb()');
    const real = ownRealDatabase(s);
    if (real) return real.handle() as unknown as T;
    db = embedded().createEmbeddedDb(s.options.database.schema);
    registerCleanup();
  }
  return db as T;
}

/**
 * Runs before every test: empties this worker's Redis and resets the test database.
 *
 * Under the preset's environment Redis is emptied only where it can matter: before every test of a file that
 * has asked for the server (testRedis(), redisUrl(), redisClusterNodes()), once more when such a file ends
 * (the environment's teardown calls FileInfo.emptyRedis), and before the first test of a worker process that is
 * not the first on its server (a crashed predecessor may have left keys; see firstProcessOnServer). A file that
 * never asks for it then costs no round trip per test, and still finds it empty when it first does. Elsewhere
 * (another environment, Vitest) it is emptied before every test.
 */
export function resetTestContext(): Promise<void> | undefined {
  const s = readState();
  if (!s) return undefined; // preset not active: nothing of ours to reset
  // Until a file asks for its server (FileInfo.emptyRedis), nothing in it can reach it: nothing to empty.
  const file = process.env[EVERY_TEST_ENV] ? undefined : fileInfo();
  if (file && !file.worker.redisEmptied && firstProcessOnServer(s)) file.worker.redisEmptied = true;
  const emptyRedis = !file || file.emptyRedis !== undefined || !file.worker.redisEmptied;
  const real = ownRealDatabase(s);
  // Nothing to do (a file of plain logic): no promise either, so the hook costs Jest as little as it can.
  if (!emptyRedis && !db && !real) return undefined;
  // One thing to do (the usual case): its own promise, without gathering.
  if (emptyRedis && !db && !real) return emptyOwnRedis(s);
  return Promise.all([emptyRedis ? emptyOwnRedis(s) : undefined, db?.reset(), real?.reset()]).then(() => undefined);
}

/**
 * Whether this process is the first to run tests on this worker's own server (started empty by globalSetup):
 * then there is nothing a crashed predecessor could have left. Told by a marker file next to the server's
 * socket, created with O_EXCL: synchronous, so a file of pure logic tests never waits on I/O. External servers
 * (redis.url) and servers without a socket folder: false, and the first test empties once.
 */
function firstProcessOnServer(s: PresetState): boolean {
  if (s.external) return false;
  const cluster = s.clusters?.[workerIndex(s.clusters.length)];
  const socket = cluster ? cluster.masters[0]?.socket : s.redisSockets[workerIndex(s.redisSockets.length)];
  if (!socket) return false;
  try {
    closeSync(openSync(join(dirname(socket), `${socket.replace(/.*\//, '')}.claimed`), 'wx'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Empties this worker's Redis: its server, every master of its cluster, or its part of an external server.
 * Runs before every test of a file that uses Redis, so the usual case (one server, one command) makes one
 * promise, the reply's. Never throws: a failure is a rejected promise.
 */
function emptyOwnRedis(s: PresetState): Promise<void> {
  try {
    resetPlan ??= planReset(s);
    const { resets, commands } = resetPlan;
    const sent = resets.length === 1 && commands.length === 1 ? resets[0]!.command(...commands[0]!) : Promise.all(resets.map((r) => runInOrder(r, commands)));
    return sent.then(markEmptied);
  } catch (error) {
    return Promise.reject(error);
  }
}

function planReset(s: PresetState): NonNullable<typeof resetPlan> {
  const commands = resetCommands(s); // first: nothing below is left unclosed if it throws
  const cluster = ownCluster('the per-test reset');
  const { ResetConnection } = resetConnection();
  let resets: Resetter[];
  if (cluster) resets = cluster.masters.map((m) => new ResetConnection({ path: m.socket }));
  else if (s.external) resets = [externalResetter(ownRedisUrl('the per-test reset'))];
  else resets = [new ResetConnection(ownEndpoint('the per-test reset'))];
  registerCleanup();
  // With replicas, wait until they have applied the FLUSHALL too (a test may read from them).
  const replicas = cluster?.replicas ?? 0;
  return { resets, commands: replicas > 0 ? [...commands, ['WAIT', String(replicas / resets.length), '1000']] : commands };
}

function markEmptied(): void {
  const file = fileInfo();
  if (file) file.worker.redisEmptied = true;
}

async function runInOrder(r: Resetter, commands: string[][]): Promise<void> {
  await Promise.all(commands.map((c) => r.command(...c))); // one connection: the server runs them in order
}

/**
 * An external server (redis.url) may need a password, TLS or a database index from its URL: ioredis handles
 * all of them, so the reset uses it there (the bare RESP connection is for the library's own servers).
 */
function externalResetter(url: string): Resetter {
  const IORedis = ioredis();
  const r = new IORedis(url, { maxRetriesPerRequest: 1 });
  return {
    command: (name, ...args) => r.call(name, ...args),
    close: () => closeIoredis(r),
  };
}

/** quit() when connected; a client that is (re)connecting would never answer QUIT, so disconnect it. */
function closeIoredis(c: Redis | Cluster): Promise<void> {
  if (c.status === 'end') return Promise.resolve();
  return new Promise<void>((resolve) => {
    c.once('end', () => resolve());
    if (c.status === 'ready') c.quit().catch(() => c.disconnect());
    else c.disconnect();
  });
}

/** Closes this file's connections. Safe to call more than once. */
export async function closeTestContext(): Promise<void> {
  const tasks: Promise<unknown>[] = [];
  if (client) {
    const c = client;
    client = undefined;
    tasks.push(closeIoredis(c));
  }
  if (resetPlan) {
    tasks.push(...resetPlan.resets.map((r) => r.close()));
    resetPlan = undefined;
  }
  if (db) {
    tasks.push(db.pool.end().catch(() => {}));
    db = undefined;
  }
  if (realDb) {
    tasks.push(realDb.close());
    realDb = undefined;
  }
  cleanupRegistered = false;
  await Promise.all(tasks);
}

/** True when the preset's environment will close connections after the file (else setup.ts must). */
export function environmentClosesConnections(): boolean {
  return Boolean((globalThis as unknown as CleanupSlot)[CLEANUP]);
}
