/**
 * Clients of other installed copies and forks of the two Redis libraries (ioredis 6 as `ioredis6`, iovalkey,
 * node-redis 6 as `redis6`) are recognised by shape, driven by the adapters (captureKeyspace, the matchers) and
 * instrumented by the race (__tests__/stacks/ runs the race on each).
 */
import Redis6, { Cluster as Cluster6 } from 'ioredis6';
import Valkey, { Cluster as ValkeyCluster } from 'iovalkey';
import { createClient as createClient6 } from 'redis6';
import { captureKeyspace, redisUrl, toRedisAdapter } from '../../src';

const closers: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

describe('other copies of ioredis and node-redis', () => {
  it.each([
    ['ioredis 6', () => new Redis6(redisUrl())],
    ['iovalkey', () => new Valkey(redisUrl())],
  ])('%s: a client is kind ioredis', (_, make) => {
    const client = make();
    closers.push(() => client.disconnect());
    expect(toRedisAdapter(client)?.kind).toBe('ioredis');
  });

  it('ioredis 6 and iovalkey Clusters (not connected) are kind ioredis-cluster', () => {
    const clusters = [new Cluster6([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true }), new ValkeyCluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })];
    for (const c of clusters) closers.push(() => c.disconnect());
    expect(clusters.map((c) => toRedisAdapter(c)?.kind)).toEqual(['ioredis-cluster', 'ioredis-cluster']);
  });

  it.each([
    ['ioredis 6', async () => new Redis6(redisUrl())],
    ['iovalkey', async () => new Valkey(redisUrl())],
    [
      'node-redis 6',
      async () => {
        const c = createClient6({ url: redisUrl() });
        await c.connect();
        return c;
      },
    ],
  ])('%s: the adapter reads the keyspace the client wrote', async (name, make) => {
    const client = (await make()) as unknown as { set(k: string, v: string): Promise<unknown>; quit?(): Promise<unknown>; close?(): Promise<unknown> };
    closers.push(() => (client.close ? client.close() : client.quit!()));
    await client.set(`copy:${name}`, 'v');
    expect(toRedisAdapter(client)?.kind).toBe(name === 'node-redis 6' ? 'node-redis' : 'ioredis');
    const keyspace = await captureKeyspace(client as never, { match: 'copy:*' });
    expect(JSON.stringify(keyspace)).toContain(`copy:${name}`);
  });
});
