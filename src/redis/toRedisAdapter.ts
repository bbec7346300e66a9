import type { RedisAdapter, RedisClientKind } from './adapter';
import { IoredisAdapter, IoredisClusterAdapter, isIoredis, isIoredisCluster } from './ioredis';
import { isNodeRedis, NodeRedisAdapter } from './nodeRedis';

const ADAPTER = Symbol.for('jest-cache-consistency.redis-adapter');

/**
 * The adapter for a Redis client, or `undefined` when `client` is not one this library can drive.
 *
 * Recognition is by shape, never `instanceof`, so a client built from the application's own copy of the
 * library is recognised too:
 * - an adapter already: returned as is;
 * - ioredis `Redis`: `isCluster === false`, a string `status`, and `callBuffer`, `pipeline`, `connect`, `on`;
 * - ioredis `Cluster`: `isCluster === true`, a string `status`, and `callBuffer`, `nodes`, `on`;
 * - node-redis v5 or v6 `createClient()`: `sendCommand`, `withTypeMapping` (new in v5), boolean `isOpen` and
 *   `isReady`, and no `masters` (so a node-redis cluster is not taken for a client).
 *
 * The same client always gets the same adapter object (cached on the client under a registered symbol).
 */
export function toRedisAdapter(client: unknown): RedisAdapter | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  if (isRedisAdapter(client)) return client;
  const cached = (client as { [ADAPTER]?: RedisAdapter })[ADAPTER];
  if (cached) return cached;
  const kind = redisClientKind(client);
  const adapter: RedisAdapter | undefined =
    kind === 'ioredis' ? new IoredisAdapter(client as never) : kind === 'ioredis-cluster' ? new IoredisClusterAdapter(client as never) : kind === 'node-redis' ? new NodeRedisAdapter(client as never) : undefined;
  if (adapter && Object.isExtensible(client)) {
    Object.defineProperty(client, ADAPTER, { value: adapter, enumerable: false, configurable: true });
  }
  return adapter;
}

/**
 * Which client library `client` comes from, recognised by shape (the rules above), or undefined: the one
 * recogniser of Redis clients, for the adapters and for the race helpers' instrumentation alike.
 */
export function redisClientKind(client: unknown): RedisClientKind | undefined {
  if (isIoredis(client)) return 'ioredis';
  if (isIoredisCluster(client)) return 'ioredis-cluster';
  if (isNodeRedis(client)) return 'node-redis';
  return undefined;
}

/** True for an object that already implements {@link RedisAdapter}. */
export function isRedisAdapter(value: unknown): value is RedisAdapter {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.kind === 'string' &&
    typeof v.send === 'function' &&
    typeof v.batch === 'function' &&
    typeof v.scan === 'function' &&
    typeof v.shards === 'function' &&
    typeof v.ready === 'function' &&
    typeof v.describe === 'function'
  );
}
