/**
 * Module-level clients bound on first use: while a race runs, the client libraries this package can reach (the
 * copies of ioredis, node-redis, node-postgres, mysql2, Knex and Sequelize that `require` finds from here, which in an application
 * are the application's own when they are hoisted, as npm does for one major) have their command entry points
 * hooked on the prototype. The first time an actor calls a client, pool or connection of those classes that is
 * neither an actor's own nor bound, the object is bound with `bindToActors` right there and the call goes on
 * bound: it runs over the actor's own connection, as one of its steps. So a service that builds its clients at
 * import time from `process.env.REDIS_URL` / `DATABASE_URL` works as an actor as it is.
 *
 * Outside actors the hooks pass every call through untouched; they are removed when the last race ends (an
 * object bound meanwhile stays bound, which changes nothing outside actors). Copies this package cannot reach (a
 * second major installed beside the hoisted one, a fork such as iovalkey, a driver of its own such as
 * postgres.js) are not bound automatically: the wire guard fails the run when an actor uses one (wireGuard.ts).
 */
import { isBound, markBound } from './bound';
import { bindToActors } from './connections';
import { nodeRedisSelf } from './redisSteps';
import { controlledActor } from './wireGuard';

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface Hook {
  readonly owner: Record<string, unknown>;
  readonly method: string;
  readonly original: Method;
  readonly hooked: Method;
}

let installs = 0;
let hooks: Hook[] = [];

/** The object in `start`'s prototype chain (itself included) that owns `method`. */
function ownerOf(start: object | null | undefined, method: string): Record<string, unknown> | undefined {
  for (let o = start; o; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.prototype.hasOwnProperty.call(o, method)) return o as Record<string, unknown>;
  }
  return undefined;
}

const resolved = new Map<string, string | undefined>();

/**
 * The library `id` when the application has loaded it already (in Jest: into this test file's module registry),
 * else undefined: loading a library nobody uses (node-redis is hundreds of modules) would cost every race.
 */
function loadedLibrary(id: string): unknown {
  if (!resolved.has(id)) {
    let path: string | undefined;
    try {
      path = require.resolve(id);
    } catch {
      path = undefined;
    }
    resolved.set(id, path);
  }
  const path = resolved.get(id);
  const cache = require.cache as Record<string, unknown> | undefined;
  if (path === undefined || cache?.[path] === undefined) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id);
  } catch {
    return undefined;
  }
}

/** The prototypes and methods to hook, for the libraries that are loaded. */
interface Target {
  readonly proto: object | undefined;
  readonly methods: readonly string[];
  readonly skip?: (self: unknown) => boolean;
  /** The object to bind for a call on `self` (default `self`): the library instance that owns this pool. */
  readonly bindAs?: (self: unknown) => object | undefined;
}

function targets(): Target[] {
  const out: Target[] = [];
  // ioredis: a client's own handshake (ready check, CLIENT SETNAME, SELECT) while it connects is not the actor's.
  const connecting = (self: unknown) => (self as { status?: unknown } | null)?.status === 'connect';
  const ioredis = loadedLibrary('ioredis') as { default?: { prototype: object }; Cluster?: { prototype: object } } | undefined;
  if (ioredis?.default) out.push({ proto: ioredis.default.prototype, methods: ['sendCommand', 'pipeline', 'multi'], skip: connecting });
  if (ioredis?.Cluster) out.push({ proto: ioredis.Cluster.prototype, methods: ['sendCommand', 'pipeline', 'multi'], skip: connecting });
  const nodeRedis = loadedLibrary('@redis/client') as { createClient?: (o?: object) => object } | undefined;
  if (typeof nodeRedis?.createClient === 'function') {
    // The class is not exported: a client that never connects shows its prototype.
    const probe = nodeRedisSelf(nodeRedis.createClient());
    out.push({ proto: probe, methods: ['sendCommand', '_executeMulti', '_executePipeline'] });
  }
  const pg = loadedLibrary('pg') as { Pool?: { prototype: object }; Client?: { prototype: object } } | undefined;
  if (pg?.Pool) out.push({ proto: pg.Pool.prototype, methods: ['query', 'connect'] });
  if (pg?.Client) out.push({ proto: pg.Client.prototype, methods: ['query'] });
  const mysql = loadedLibrary('mysql2/promise') as { PromisePool?: { prototype: object } } | undefined;
  if (mysql?.PromisePool) out.push({ proto: mysql.PromisePool.prototype, methods: ['query', 'execute', 'getConnection'] });
  const mysqlCallback = loadedLibrary('mysql2') as { Pool?: { prototype: object } } | undefined;
  if (mysqlCallback?.Pool) out.push({ proto: mysqlCallback.Pool.prototype, methods: ['query', 'execute', 'getConnection'] });
  // Knex and Sequelize take a connection of their own pool for each statement (acquireConnection, getConnection):
  // bound, each actor is handed its own instead, for the whole race. Unbound, an actor holding the pool's connection
  // while its step waits for its turn would keep the others waiting for it (docs/race.md#limits).
  const knex = loadedLibrary('knex') as { Client?: { prototype: object } } | undefined;
  if (knex?.Client) out.push({ proto: knex.Client.prototype, methods: ['acquireConnection'], bindAs: knexOf });
  const sequelizeManager = loadedLibrary('sequelize/lib/dialects/abstract/connection-manager') as { ConnectionManager?: { prototype: object } } | undefined;
  if (loadedLibrary('sequelize') !== undefined && sequelizeManager?.ConnectionManager) {
    out.push({ proto: sequelizeManager.ConnectionManager.prototype, methods: ['getConnection'], bindAs: (manager) => (manager as { sequelize?: object }).sequelize });
  }
  return out;
}

/**
 * What to bind for a Knex client: the Knex instance is what bindToActors takes, but a client does not know it. A
 * function standing for it (its `client` and `raw`) is made once per client.
 */
const knexInstances = new WeakMap<object, object>();
function knexOf(client: unknown): object | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  let instance = knexInstances.get(client);
  if (!instance) {
    const c = client as { raw?: (...args: unknown[]) => unknown };
    const standIn = Object.assign((...args: unknown[]) => c.raw?.(...args), { client, raw: (...args: unknown[]) => c.raw?.(...args) });
    knexInstances.set(client, (instance = standIn));
  }
  return instance;
}

/** Whether a call on `self` made now should bind `self` first. */
function shouldBind(self: unknown): boolean {
  if (typeof self !== 'object' || self === null || isBound(self)) return false;
  return controlledActor() !== undefined;
}

/**
 * Hooks the reachable client libraries (counted: each race session or race() installs them once and removes
 * them when it ends). Returns the function that removes them.
 */
export function installAutoBind(): () => void {
  if (installs === 0) {
    let found: ReturnType<typeof targets> = [];
    try {
      found = targets();
    } catch {
      // A library that cannot be inspected is not hooked: the wire guard still sees what an actor sends through it.
    }
    for (const { proto, methods, skip, bindAs } of found) {
      for (const method of methods) {
        const owner = ownerOf(proto, method);
        if (!owner || typeof owner[method] !== 'function') continue;
        const original = owner[method] as Method;
        const hooked: Method = function (this: unknown, ...args: unknown[]) {
          if (shouldBind(this) && !skip?.(this)) {
            let bound = false;
            try {
              const target = bindAs ? bindAs(this) : (this as object);
              if (target !== undefined && !isBound(target)) bindToActors(target);
              if (target !== undefined && target !== this) markBound(this as object);
              bound = target !== undefined;
            } catch {
              // Not an object bindToActors takes (a pool connection, a handle of another shape): the wire guard
              // sees what it sends.
            }
            const own = (this as Record<string, unknown>)[method];
            if (bound && typeof own === 'function' && own !== hooked) return (own as Method).apply(this, args);
          }
          return original.apply(this, args);
        };
        owner[method] = hooked;
        hooks.push({ owner, method, original, hooked });
      }
    }
  }
  installs++;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--installs === 0) {
      for (const { owner, method, original, hooked } of hooks.reverse()) if (owner[method] === hooked) owner[method] = original;
      hooks = [];
    }
  };
}
