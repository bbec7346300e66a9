/**
 * An actor's own database connection is acquired when first used (or when the race makes it ready) and given
 * back once: closing an actor that never used it must not acquire one just to give it back.
 */
import { ActorLink } from '../../src/race/instrument/actorLink';
import { openActorDb } from '../../src/race/instrument/dbSteps';

/** A pool that counts connections handed out and given back. */
function countingPools() {
  const counts = { acquired: 0, released: 0 };
  const connection = {
    query: async () => ({ rows: [] }),
    release: () => void counts.released++,
    execute: async () => [[], []],
    beginTransaction: async () => {},
    commit: async () => {},
    rollback: async () => {},
  };
  const pgPool = {
    query: async () => ({ rows: [] }),
    connect: async () => (counts.acquired++, connection),
  };
  const mysqlPool = {
    query: async () => [[], []],
    getConnection: async () => (counts.acquired++, connection),
  };
  return { counts, pgPool, mysqlPool };
}

describe.each(['pgPool', 'mysqlPool'] as const)('an actor connection on a %s', (which) => {
  it('that was never used is not acquired by close()', async () => {
    const pools = countingPools();
    const actor = openActorDb(pools[which], new ActorLink('writer', 0));
    await actor.close();
    expect(pools.counts).toEqual({ acquired: 0, released: 0 });
  });

  it('that was made ready is acquired once and given back once', async () => {
    const pools = countingPools();
    const actor = openActorDb(pools[which], new ActorLink('writer', 0));
    await actor.ready();
    await (actor.handle as { query(sql: string): Promise<unknown> }).query('SELECT 1');
    await actor.close();
    expect(pools.counts).toEqual({ acquired: 1, released: 1 });
  });
});
