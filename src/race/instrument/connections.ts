/**
 * Per-actor connections, and module-level clients bound to actors.
 *
 * An actor talks over its own connections, as a separate process would: WATCH/MULTI state and SQL
 * transactions are per connection, so one actor's commands never land inside another actor's MULTI or
 * transaction. Connections are opened once per race (not per schedule) and closed when it ends.
 */
import { InvalidRaceScenarioError, RaceActorOutlivedError } from '../../errors';
import { currentActor, type ActorLink } from './actorLink';
import { isBound, markBound } from './bound';
import { ACTOR_LIBRARY_CONNECTIONS, dbHandleKind, LIBRARY_ORIGINALS, openActorDb, pooledLibrary, type ActorDbConnection } from './dbSteps';
import { instrumentIoredis, instrumentNodeRedis, isHousekeeping, openActorRedis, redisClientKind, type ActorRedisConnection } from './redisSteps';

type Connection = ActorRedisConnection | ActorDbConnection;

function connections(link: ActorLink): Map<object, Connection> {
  return link.connections as unknown as Map<object, Connection>;
}

/** `link`'s connection for `base`, opened with `open` on first use; `what` names the call refused once its race ended. */
function connectionFor<C extends Connection>(link: ActorLink, base: object, open: (base: object, link: ActorLink) => C, what: string): C {
  const map = connections(link);
  const key = connectionKey(base);
  let conn = map.get(key) as C | undefined;
  if (!conn) {
    // A bound module-level client used by an actor whose race has ended (its code went on after a failure).
    if (link.closed) throw new RaceActorOutlivedError(link.name, what);
    conn = open(base, link);
    map.set(key, conn);
  }
  return conn;
}

/**
 * What one actor connection stands for: the pool itself for a mysql2 promise wrapper (`pool.promise()` makes a new
 * wrapper on every call; each must not take a connection of its own), else the handle.
 */
function connectionKey(base: object): object {
  const inner = (base as { pool?: { promise?: unknown; getConnection?: unknown } }).pool;
  if (inner && typeof inner === 'object' && typeof inner.promise === 'function' && typeof inner.getConnection === 'function') return inner;
  return base;
}

/** `link`'s own connection to the Redis server `base` talks to (opened on first use). */
export function actorRedis(link: ActorLink, base: object): ActorRedisConnection {
  return connectionFor(link, base, openActorRedis, 'a Redis command (through a client bound with bindToActors)');
}

/** `link`'s own handle (and connection, where the handle has them) for the database handle `base`. */
export function actorDb(link: ActorLink, base: object): ActorDbConnection {
  // An actor's handle for a Knex or Sequelize instance is the instance itself: it must follow the actor (bound) to reach its connection.
  if (pooledLibrary(base)) bindToActors(base);
  return connectionFor(link, base, openActorDb, 'a database statement (through a handle bound with bindToActors)');
}

export async function tidyConnections(link: ActorLink): Promise<void> {
  await Promise.all([...connections(link).values()].map((conn) => conn.tidy()));
}

export async function closeConnections(link: ActorLink): Promise<void> {
  link.closed = true;
  const all = [...connections(link).values()];
  connections(link).clear();
  await Promise.allSettled(all.map((c) => c.close()));
}


/**
 * Makes a client or database handle that a service keeps at module level follow the actor it is called
 * from: inside an actor (an `everyInterleaving` actor, or `actor.run(fn)` of a `race()`), each call goes over
 * that actor's own connection and is one of its steps; outside actors it behaves exactly as before.
 *
 * The object is patched in place and returned (ioredis and node-redis clients, node-postgres and pg-mem
 * pools and clients, the preset's `testDb().pool`, mysql2 pools, `testDb()`, Knex instances on pg or mysql2,
 * Sequelize instances on mysql), in the drivers' promise and callback forms. A Knex instance is a function, but not
 * a query function: its client's `acquireConnection()` is what is patched (Sequelize: its connection manager's
 * `getConnection()`), so query builders, raw queries and transactions follow the actor. A plain query function
 * cannot be patched: use the function this returns instead. A postgres.js `sql` is refused (pass it as a race's
 * `db`), and so is a handle whose methods cannot be replaced (a forwarding Proxy), with INVALID_RACE_SCENARIO.
 *
 * @example
 * // services/userCache.ts keeps `export const redis = new Redis(url)` and `export const pool = new Pool()`
 * bindToActors(userCacheModule.redis);
 * bindToActors(userCacheModule.pool);
 */
export function bindToActors<T extends object>(client: T): T {
  if (isBound(client)) return client;
  const redisKind = redisClientKind(client);
  if (redisKind) {
    const route = () => {
      if (isHousekeeping()) return undefined;
      const link = currentActor();
      if (!link) return undefined;
      // The actor's race has ended: the command is issued on the link, which refuses it (RACE_ACTOR_OUTLIVED).
      if (link.closed) return { link, target: client };
      return { link, target: actorRedis(link, client).client };
    };
    if (redisKind === 'ioredis' || redisKind === 'ioredis-cluster') instrumentIoredis(client, route);
    else instrumentNodeRedis(client, route);
    markBound(client);
    return client;
  }
  const dbKind = dbHandleKind(client);
  if (!dbKind) {
    throw new InvalidRaceScenarioError('bindToActors(client)', 'expected an ioredis client or Cluster or a node-redis client, or a database handle (testDb(), a pg Pool or Client, a mysql2 pool, a Knex instance on pg or mysql2, a Sequelize instance on mysql, a query function)');
  }
  if (dbKind === 'postgres.js') {
    throw new InvalidRaceScenarioError(
      'bindToActors(client)',
      "a postgres.js sql is a function: its calls cannot be redirected in place. Pass it as the race's `db` and give the service the actor's `db` (docs/stacks.md#postgresjs)",
    );
  }
  const library = pooledLibrary(client);
  if (library && (dbKind === 'knex' || dbKind === 'sequelize')) {
    bindLibrary(client, library);
    markBound(client);
    return client;
  }
  const own = (link: ActorLink) => actorDb(link, client).handle as Record<string, (...a: unknown[]) => unknown> & ((...a: unknown[]) => unknown);
  if (dbKind === 'function') {
    const fn = client as unknown as (...a: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const link = currentActor();
      return link ? own(link)(...args) : fn.apply(this, args);
    };
    markBound(wrapped);
    return wrapped as unknown as T;
  }
  const target = client as Record<string, unknown>;
  const methods = ['query', 'execute', 'connect', 'getConnection', 'beginTransaction', 'commit', 'rollback'].filter((m) => typeof target[m] === 'function');
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const m of methods) {
    const original = target[m] as (...a: unknown[]) => unknown;
    originals.set(m, original);
    const patched = function (this: unknown, ...args: unknown[]) {
      const link = currentActor();
      if (!link || isHousekeeping()) return original.apply(this, args);
      const handle = own(link);
      if (typeof handle[m] !== 'function') return original.apply(this, args);
      return handle[m]!(...args);
    };
    target[m] = patched;
    if (target[m] !== patched) {
      // The calls go through something the patch does not reach (a Proxy forwarding its methods elsewhere):
      // bound, its statements would run outside the race, unseen. Put back what took and refuse.
      for (const [name, fn] of originals) if (name !== m) target[name] = fn;
      throw new InvalidRaceScenarioError(
        'bindToActors(client)',
        `the handle's ${m}() cannot be replaced (its methods are forwarded from another object, as a Proxy does): ` +
          'bind the object the calls actually go through (the pool or client itself), or pass the handle as the `db` option and give actors its handle',
      );
    }
  }
  markBound(client);
  return client;
}

/**
 * Knex runs every statement on a connection it takes with `client.acquireConnection()` and gives back with
 * `client.releaseConnection()` (transactions take theirs the same way); Sequelize with its connection manager's
 * `getConnection()` and `releaseConnection()`. Inside an actor the first hands out the actor's own connection (one
 * of the library's pool's, whose statements are steps) and the second keeps it.
 */
function bindLibrary(base: object, library: ReturnType<typeof pooledLibrary> & object): void {
  const { holder } = library;
  const acquire = holder[library.acquire] as (...args: unknown[]) => Promise<unknown>;
  const release = holder[library.release] as (connection: unknown) => unknown;
  LIBRARY_ORIGINALS.set(holder, { acquire, release });
  holder[library.acquire] = function (this: unknown, ...args: unknown[]) {
    const link = currentActor();
    if (!link || isHousekeeping()) return acquire.apply(this, args);
    try {
      return Promise.resolve(actorDb(link, base).connection);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  holder[library.release] = function (this: unknown, connection: unknown) {
    if (connection && typeof connection === 'object' && ACTOR_LIBRARY_CONNECTIONS.has(connection)) return Promise.resolve();
    return release.call(this, connection);
  };
}

