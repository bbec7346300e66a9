/**
 * ioredis Cluster against a real one-node Redis Cluster (all 16384 slots on one cluster-enabled
 * redis-server): keys of many slots, so multi-key scripts are refused (CROSSSLOT) and capture reads per key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { captureKeyspace, toRedisAdapter } from '../../src';
import { findRedisServerBinary } from '../../src/server/binary';
import { startRedisServer, type RedisServer } from '../../src/server/redisServer';

let server: RedisServer;
let dir: string;
let node: Redis;
let cluster: Cluster;

/** CLUSTER INFO until the node reports cluster_state:ok (no event exists for it; each call is a round trip). */
async function clusterReady(r: Redis): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (/cluster_state:ok/.test(await r.cluster('INFO'))) return;
  }
  throw new Error('cluster never reached cluster_state:ok');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jcc-cluster-'));
  const binary = await findRedisServerBinary();
  server = await startRedisServer({
    binary: binary.path,
    args: [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, 'nodes.conf'),
      '--dir', dir,
      // A lone node does not know its own address: CLUSTER SLOTS would name it "" and ioredis could not connect.
      '--cluster-announce-ip', '127.0.0.1',
    ],
  });
  node = new Redis(server.port, server.host);
  await node.cluster('ADDSLOTSRANGE', 0, 16383);
  await clusterReady(node);
  cluster = new Cluster([{ host: server.host, port: server.port }]);
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', resolve);
    cluster.once('error', reject);
  });
}, 30_000); // a new cluster node reports cluster_state:ok only after Redis's own ~2 s delay

afterAll(async () => {
  await cluster?.quit();
  await node?.quit();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => node.flushall());

it('recognises an ioredis Cluster: one shard per master, no multi-key reads', () => {
  const adapter = toRedisAdapter(cluster)!;
  expect(adapter.kind).toBe('ioredis-cluster');
  expect(adapter.multiKey).toBe(false);
  const shards = adapter.shards();
  expect(shards).toHaveLength(1);
  expect(shards[0]!.kind).toBe('ioredis');
  expect(shards[0]!.multiKey).toBe(false);
});

it('captures keys of every slot and type through the cluster client, as a direct connection reads them', async () => {
  for (let i = 0; i < 150; i++) await cluster.set(`user:${i}`, JSON.stringify({ id: i }));
  await cluster.hset('cart:1', { a: '1', b: '2' });
  await cluster.rpush('queue', 'x', 'y');
  await cluster.sadd('tags', 'b', 'a');
  await cluster.zadd('board', 2, 'b', 1, 'a');
  await cluster.xadd('events', '1-0', 'type', 'login');
  await cluster.set('ttl', 'v', 'EX', 60);

  const viaCluster = await captureKeyspace(cluster, { batchSize: 40 });
  expect(viaCluster.entries).toHaveLength(156);
  expect(viaCluster.entries.find((e) => e.key === 'ttl')!.ttlMs).toBeGreaterThan(50_000);
  expect(viaCluster.entries.find((e) => e.key === 'board')!.value).toEqual([
    { member: 'a', score: 1 },
    { member: 'b', score: 2 },
  ]);

  // A plain client on the node tries a multi-key read (MGET), gets CROSSSLOT, and goes on key by key.
  await node.config('RESETSTAT');
  const direct = await captureKeyspace(node);
  const stats = await node.info('commandstats');
  expect(stats).toMatch(/cmdstat_mget:calls=0,.*rejected_calls=1,/);
  expect(stats).toMatch(/cmdstat_type:calls=156,/);
  const strip = (s: typeof direct) => s.entries.map(({ ttlMs: _t, ...e }) => e);
  expect(strip(direct)).toEqual(strip(viaCluster));
  // Pages of at most one key: a script call on an empty page succeeds, one on a key is refused (the keys of a
  // script must be declared on a cluster node), so the refusal may come on a later page: the same keyspace.
  expect(strip(await captureKeyspace(node, { batchSize: 1 }))).toEqual(strip(viaCluster));
});
