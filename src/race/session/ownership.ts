/** Whose Redis is it: the race empties the server before every schedule, so it must be this worker's own. */
import { RedisNotOwnedError } from '../../errors';
import { readState } from '../../preset/state';
import type { RedisAdapter, RedisReply } from '../../redis/adapter';
import { toRedisAdapter } from '../../redis/toRedisAdapter';
import { testRedis } from '../../runtime/testContext';

/** The run ids of the servers `adapter` talks to (every master of a Cluster). */
async function runIds(adapter: RedisAdapter): Promise<string[]> {
  return Promise.all(
    adapter.shards().map(async (shard) => {
      const info = (await shard.send('INFO', 'server')) as RedisReply;
      const text = Buffer.isBuffer(info) ? info.toString('utf8') : '';
      return /run_id:(\w+)/.exec(text)?.[1] ?? '';
    }),
  );
}

/**
 * Refuses (REDIS_NOT_OWNED) a Redis the race may not empty: one the preset did not start for this worker,
 * unless `allowFlush`; on an external server, anything but testRedis().
 */
export async function checkOwned(adapter: RedisAdapter, base: object, allowFlush: boolean | undefined): Promise<void> {
  const state = readState();
  if (state?.external) {
    // An external server (redis.url): only testRedis() is known to sit on this worker's own database index
    // or prefix; any other client may see other people's data, whatever allowFlush says.
    if (base === testRedis()) return;
    throw new RedisNotOwnedError(adapter.describe());
  }
  if (allowFlush) return;
  if (!state) throw new RedisNotOwnedError(adapter.describe());
  const own = testRedis();
  if (own === base) return;
  // Owned: every server it talks to is one the preset started for this worker (a Cluster knows its
  // masters only once it is ready).
  const ownAdapter = toRedisAdapter(own)!;
  await ownAdapter.ready();
  const [theirs, ours] = await Promise.all([runIds(adapter), runIds(ownAdapter)]);
  if (theirs.length === 0 || theirs.some((id) => !id || !ours.includes(id))) throw new RedisNotOwnedError(adapter.describe());
}
