import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@jest/types';
import { findRedisServerBinary } from '../server/binary';
import type { RedisCluster } from '../server/cluster';
import type { ExternalClaim } from '../server/externalRedis';
import { startRedisServer, type RedisServer } from '../server/redisServer';
import { startWatchdog, type Watchdog } from '../server/watchdog';
import type { ProvisionedDatabases } from '../db/provision';
import { checkEnvironmentOptionKeys, validateOptions, type ResolvedOptions } from './options';
import { writeState, STATE_ENV, type PresetState } from './state';

/** What a started run holds until teardown. */
interface Running {
  previousEnv: string | undefined;
  stop: () => Promise<void>;
}

// Jest may load globalSetup and globalTeardown as separate module instances: share through the process.
const RUNNING = Symbol.for('jest-cache-consistency.running');
type Holder = { [RUNNING]?: Running };
const holder = process as unknown as Holder;

type RedisPart = Omit<PresetState, 'version' | 'options'> & { stop: () => Promise<void> };

/** One redis-server per worker, under the watchdog, each also on a unix socket in a private folder. */
async function startOwnServers(options: ResolvedOptions, count: number, watchdog: Watchdog): Promise<RedisPart> {
  const binary = await findRedisServerBinary({ binary: options.redis.binary });
  // Short, private folder for the unix sockets (paths must stay under ~104 bytes).
  const socketDir = mkdtempSync(join(tmpdir().length > 60 ? '/tmp' : tmpdir(), 'jcc-'));
  watchdog.removeOnExit(socketDir);
  const servers: RedisServer[] = [];
  const clusters: RedisCluster[] = [];
  const cluster = options.redis.cluster;
  const results = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      if (cluster) {
        const configDir = join(socketDir, `w${i + 1}`);
        mkdirSync(configDir);
        const { startRedisCluster } = require('../server/cluster') as typeof import('../server/cluster');
        clusters[i] = await startRedisCluster({
          binary: binary.path,
          args: options.redis.args,
          startTimeoutMs: options.redis.startTimeoutMs,
          masters: cluster.masters,
          replicasPerMaster: cluster.replicasPerMaster,
          configDir,
          unixSocket: (n) => join(configDir, `${n}.sock`),
          onSpawn: (pid) => watchdog.watch(pid),
          onExit: (pid) => watchdog.unwatch(pid),
          onNode: (node) => {
            servers.push(node);
            watchdog.removeOnExit(node.dir);
          },
        });
        return;
      }
      const server = await startRedisServer({
        binary: binary.path,
        args: options.redis.args,
        startTimeoutMs: options.redis.startTimeoutMs,
        unixSocket: join(socketDir, `${i + 1}.sock`),
        // Watched from spawn on, not from readiness: a runner killed during start-up leaves nothing behind.
        onSpawn: (pid) => watchdog.watch(pid),
        onExit: (pid) => watchdog.unwatch(pid),
      });
      servers[i] = server;
      watchdog.removeOnExit(server.dir);
    }),
  );
  // A process that exits without running globalTeardown still takes its servers along.
  const onExit = () => {
    for (const s of servers) {
      try {
        if (s) process.kill(s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const stop = async () => {
    process.removeListener('exit', onExit);
    await Promise.all(servers.filter(Boolean).map((s) => s.stop()));
    for (const s of servers) if (s) watchdog.unwatch(s.pid);
    rmSync(socketDir, { recursive: true, force: true });
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  process.once('exit', onExit);
  const firsts = cluster ? clusters.map((c) => c.masters[0]!) : servers;
  return {
    redisUrls: firsts.map((s) => s.url),
    redisSockets: firsts.map((s) => s.socket!),
    ...(cluster && {
      clusters: clusters.map((c) => ({
        masters: c.masters.map((m) => ({ host: m.host, port: m.port, socket: m.socket! })),
        replicas: c.replicas.length,
      })),
    }),
    ownServers: servers.filter(Boolean).map((s) => ({ runId: s.runId, dir: s.dir })),
    watchdogPid: watchdog.pid,
    stop,
  };
}

/** An existing server (redis.url): claim a database index or a key prefix per worker. */
async function useExternalServer(options: ResolvedOptions, count: number): Promise<RedisPart> {
  const external = options.redis.external!;
  // Loaded only where used: a run on its own servers (the usual one) never loads these.
  const { claimExternalRedis, releaseExternalRedis } = require('../server/externalRedis') as typeof import('../server/externalRedis');
  const claim: ExternalClaim = await claimExternalRedis(external, count, process.pid);
  return {
    redisUrls: claim.urls,
    redisSockets: [],
    watchdogPid: 0,
    external: { isolation: claim.isolation, databases: claim.databases, keyPrefixes: claim.keyPrefixes },
    stop: () => releaseExternalRedis(external.url, claim),
  };
}

/**
 * Validates `testEnvironmentOptions.cacheConsistency`, starts one redis-server per Jest worker under a
 * watchdog (or claims a share of an external server), and hands the workers their part through the environment.
 */
export async function startServers(
  globalConfig: Pick<Config.GlobalConfig, 'maxWorkers' | 'rootDir'>,
  projectConfig?: Pick<Config.ProjectConfig, 'testEnvironmentOptions' | 'rootDir'>,
): Promise<void> {
  if (holder[RUNNING]) return; // already running in this process (several projects share the servers)
  checkEnvironmentOptionKeys(projectConfig?.testEnvironmentOptions);
  const options = validateOptions(
    projectConfig?.testEnvironmentOptions?.cacheConsistency,
    projectConfig?.rootDir ?? globalConfig.rootDir,
  );
  const count = Math.max(1, globalConfig.maxWorkers || 1);
  const { kind, url, reset } = options.database;
  const realDatabases = Boolean(kind && url && reset);
  // The watchdog ends what a Jest process that dies without its teardown leaves: our redis-servers, and the
  // per-worker databases on a real server (an external Redis with the embedded database needs none).
  const watchdog = !options.redis.external || realDatabases ? startWatchdog() : undefined;
  let part: RedisPart;
  try {
    part = options.redis.external ? await useExternalServer(options, count) : await startOwnServers(options, count, watchdog!);
  } catch (err) {
    watchdog?.close();
    throw err;
  }
  const { stop: stopRedis, ...redis } = part;
  // A real database per worker (database.kind 'postgres' | 'mysql'): created now, dropped after the servers stop.
  let databases: ProvisionedDatabases | undefined;
  if (kind && url && reset) {
    const dropper = join(__dirname, '..', 'db', 'dropOnExit.js'); // the built package (not the TS sources)
    const onCreate =
      watchdog && existsSync(dropper)
        ? (name: string, adminUrl: string) => watchdog.runOnExit(dropper, JSON.stringify({ kind, url: adminUrl, name }))
        : undefined;
    try {
      const { provisionDatabases } = require('../db/provision') as typeof import('../db/provision');
      databases = await provisionDatabases({ kind, url, reset, schema: options.database.schema }, count, { projectConfig, onCreate });
    } catch (err) {
      try {
        await stopRedis();
      } finally {
        watchdog?.close(); // also drops what the failed provisioning could not
      }
      throw err;
    }
  }
  const stop = async () => {
    try {
      await stopRedis();
    } finally {
      try {
        if (databases) {
          await databases.drop();
          watchdog?.cancelRunOnExit(); // dropped: nothing left for the watchdog (it retries them if the drop failed)
        }
      } finally {
        watchdog?.close();
      }
    }
  };
  holder[RUNNING] = { previousEnv: process.env[STATE_ENV], stop };
  writeState({ version: 1, ...redis, watchdogPid: watchdog?.pid ?? 0, ...(databases && { database: databases.state }), options });
}

/** Stops what startServers started. Safe to call twice, or without startServers. */
export async function stopServers(): Promise<void> {
  const running = holder[RUNNING];
  if (!running) return;
  delete holder[RUNNING];
  await running.stop();
  if (running.previousEnv === undefined) delete process.env[STATE_ENV];
  else process.env[STATE_ENV] = running.previousEnv;
}
