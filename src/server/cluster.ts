import { execFile } from 'node:child_process';
import type Redis from 'ioredis';
import { RedisServerStartError } from '../errors';
import { startRedisServer, type RedisServer } from './redisServer';

export interface StartRedisClusterOptions {
  binary: string;
  args?: readonly string[];
  startTimeoutMs?: number;
  masters: number;
  replicasPerMaster: number;
  /** Folder for the nodes' cluster config files (and nothing else). */
  configDir: string;
  /** The unix socket of node `i` (0-based), if wanted. */
  unixSocket?: (i: number) => string;
  /** Called as each node answers PING, before the cluster is formed. */
  onNode?: (server: RedisServer) => void;
  /** Passed on to startRedisServer: each node's pid right after spawn, and when it is gone. */
  onSpawn?: (pid: number) => void;
  onExit?: (pid: number) => void;
}

export interface RedisCluster {
  readonly masters: readonly RedisServer[];
  readonly replicas: readonly RedisServer[];
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

const SLOTS = 16384;

function client(server: RedisServer): Redis {
  const IORedis = require('ioredis') as typeof import('ioredis').default;
  return new IORedis({ host: server.host, port: server.port, maxRetriesPerRequest: 0, enableReadyCheck: false });
}

/**
 * Polls a condition that Redis reports only on request (cluster membership and state have no event a client
 * can subscribe to). Each probe is a round trip; the deadline turns a cluster that never forms into an error.
 */
async function until(what: string, deadline: number, probe: () => Promise<boolean>): Promise<void> {
  let wait = 5;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not reach "${what}" in time`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 100);
  }
}

/**
 * Boots a real Redis Cluster from the same binary: `masters` masters with the 16384 slots split evenly, each
 * with `replicasPerMaster` replicas, and resolves once every node reports `cluster_state:ok` and knows every
 * other node. Redis itself holds a new master back for ~2 s before reporting ok (CLUSTER_WRITABLE_DELAY), so
 * a cluster takes at least that long.
 */
/**
 * The version `redis-server --version` prints (`Redis server v=7.0.15 sha=...`), or undefined when it prints
 * none the library recognises (then the nodes' own start errors speak).
 */
export function redisServerVersion(binary: string): Promise<{ major: number; text: string } | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (_err, stdout) => {
      const m = /v=(\d+)\.(\d+)\.(\d+)/.exec(String(stdout ?? ''));
      resolve(m ? { major: Number(m[1]), text: `${m[1]}.${m[2]}.${m[3]}` } : undefined);
    });
  });
}

export async function startRedisCluster(options: StartRedisClusterOptions): Promise<RedisCluster> {
  if (!Number.isInteger(options.masters) || options.masters < 1)
    throw new RedisServerStartError(options.binary, [], `a cluster needs at least 1 master, got ${options.masters}`, '');
  const version = await redisServerVersion(options.binary);
  if (version && version.major < 7) {
    throw new RedisServerStartError(
      options.binary,
      ['--version'],
      `redis.cluster needs redis-server 7.0 or later (it uses --cluster-port and CLUSTER ADDSLOTSRANGE); ` +
        `${options.binary} is ${version.text}. Point redis.binary or REDIS_SERVER_BINARY at a 7.x binary, or drop redis.cluster`,
      '',
    );
  }
  const total = options.masters * (1 + options.replicasPerMaster);
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.filter(Boolean).map((n) => n.stop()));
  };
  const clients: Redis[] = [];
  try {
    const started = await Promise.allSettled(
      Array.from({ length: total }, async (_, i) => {
        const server = await startRedisServer({
          binary: options.binary,
          // Replicas sync at once instead of waiting 5 s for more replicas to share a diskless transfer.
          args: ['--repl-diskless-sync-delay', '0', ...(options.args ?? [])],
          startTimeoutMs: options.startTimeoutMs,
          unixSocket: options.unixSocket?.(i),
          cluster: { configDir: options.configDir },
          onSpawn: options.onSpawn,
          onExit: options.onExit,
        });
        nodes[i] = server;
        options.onNode?.(server);
      }),
    );
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const masters = nodes.slice(0, options.masters);
    const replicas = nodes.slice(options.masters);
    clients.push(...nodes.map(client));
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000) + 10_000;

    // Slots, split evenly over the masters.
    await Promise.all(
      masters.map((_, m) => {
        const from = Math.floor((m * SLOTS) / options.masters);
        const to = Math.floor(((m + 1) * SLOTS) / options.masters) - 1;
        return clients[m]!.cluster('ADDSLOTSRANGE', from, to);
      }),
    );
    // Everybody meets node 0; gossip does the rest.
    const first = nodes[0]!;
    await Promise.all(clients.slice(1).map((c) => c.call('CLUSTER', 'MEET', first.host, first.port, first.busPort!)));
    await until('every node knows every other node', deadline, async () => {
      const views = await Promise.all(clients.map((c) => c.cluster('NODES') as Promise<string>));
      return views.every((v) => v.trim().split('\n').filter((l) => !/\b(handshake|noaddr)\b/.test(l)).length === total);
    });
    // Replicas follow their master.
    const ids = await Promise.all(clients.slice(0, options.masters).map((c) => c.cluster('MYID') as Promise<string>));
    await Promise.all(
      replicas.map((_, r) => clients[options.masters + r]!.cluster('REPLICATE', ids[r % options.masters]!)),
    );
    await until('cluster_state:ok on every node', deadline, async () => {
      const infos = await Promise.all(clients.map((c) => c.cluster('INFO') as Promise<string>));
      if (!infos.every((i) => /cluster_state:ok/.test(i))) return false;
      if (replicas.length === 0) return true;
      const roles = await Promise.all(clients.slice(options.masters).map((c) => c.info('replication')));
      return roles.every((r) => /role:slave/.test(r) && /master_link_status:up/.test(r));
    });
    return { masters, replicas, nodes: [...nodes], stop };
  } catch (err) {
    await stop();
    if (err instanceof RedisServerStartError) throw err;
    throw new RedisServerStartError(options.binary, [], `the Redis Cluster did not form: ${(err as Error).message}`, '');
  } finally {
    for (const c of clients) c.disconnect();
  }
}
