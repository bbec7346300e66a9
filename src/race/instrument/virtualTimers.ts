/**
 * Virtual time for actors. While `everyInterleaving` runs, time inside an actor is the schedule's clock
 * (docs/race.md#time):
 * - `setTimeout` (the global one and `timers/promises`' one) starts no real timer: it issues a timer step
 *   (`timer sleep 500ms`), which the scheduler orders like any other; when it is granted, the clock moves to the
 *   timer's deadline and the callback runs at once, in the actor. A sleep between two deletes ("delayed double
 *   delete") costs no real time, and every order of it against the other actors' steps is explored: time is not a
 *   lock.
 * - An actor's own timers fire in the order of their deadlines.
 * - A timer a database driver, pool or ORM starts (INFRASTRUCTURE_PACKAGES) with a delay of at least `timeoutFromMs`
 *   (a pool's acquire timeout, an idle timer), or from the callback of a timer with the same code (a pool's reaper
 *   re-arming itself), is a *timeout*: it fires only when no other step can run, as a real timeout fires only when
 *   what it guards has not happened. The service's own timers, and other libraries', are ordinary steps, however long
 *   and even when they re-arm themselves. A pending timeout never holds back an ordinary timer of the same actor. Once every actor has finished, the timeouts still
 *   pending leave the schedule: they become real timers (detached), and their callbacks run as the pool's own
 *   housekeeping, outside the race.
 * - `setInterval` starts a real, detached interval (a pool's reaper): it is never a step.
 * - `Date.now()`, `new Date()` and `Date()` read the schedule's clock, in the scenario's setup too (not its check).
 * A detached callback runs in its actor's context but not under any schedule: a step it issues is refused
 * (RACE_ACTOR_OUTLIVED), what it writes to a store over a connection the race does not control fails the run that
 * is in charge (the wire guard), its `Date.now()` and timers are real.
 *
 * Outside actors, and in `race()` (manual gates), timers and dates are real and untouched.
 */
import timersPromises = require('node:timers/promises');
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as realSetTimeoutFn, clearTimeout as realClearTimeoutFn } from 'node:timers';
import { RaceActorOutlivedError } from '../../errors';
import { actorStorage, liveActor, runStorage, type ActorLink, type StepController } from './actorLink';
import { formatOutcome } from './labels';
import type { StepRequest } from '../step';

const TIMER_ASYNC_ID = (handle: object): number | undefined => {
  for (const sym of Object.getOwnPropertySymbols(handle)) {
    if (sym.description === 'asyncId') {
      const id = (handle as Record<symbol, unknown>)[sym];
      return typeof id === 'number' ? id : undefined;
    }
  }
  return undefined;
};

/**
 * The owner of detached callbacks: never the controller of an actor, so their steps are refused and their time is
 * real (liveActor() is undefined for them).
 */
const DETACHED: StepController = {
  issue: (link, request) => Promise.reject(new RaceActorOutlivedError(link.name, `\`${request.info.description}\``)),
};

let nextId = 1;

/** What `setTimeout` returns inside an actor: enough of Node's Timeout for callers to hold and clear it. */
export class VirtualTimeout {
  readonly id = nextId++;
  cleared = false;
  fired = false;
  /** False once `unref()` was called: the real timer it may become does not keep the process alive. */
  refed = true;
  /** Set once the timer left the schedule (detached): the real timer now in its place. */
  real: ReturnType<typeof realSetTimeoutFn> | undefined;
  constructor(
    readonly link: ActorLink,
    readonly request: StepRequest,
  ) {}
  ref(): this {
    this.refed = true;
    this.real?.ref();
    return this;
  }
  unref(): this {
    this.refed = false;
    this.real?.unref();
    return this;
  }
  hasRef(): boolean {
    return this.refed;
  }
  refresh(): this {
    this.real?.refresh();
    return this;
  }
  close(): this {
    clearVirtual(this);
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/** Detached timers not yet fired or cleared: a library may clear them after the race, with the real clearTimeout. */
const detached = new Set<VirtualTimeout>();

function clearVirtual(t: VirtualTimeout): void {
  if (t.cleared || t.fired) return;
  t.cleared = true;
  if (t.real !== undefined) {
    detached.delete(t);
    return realClearTimeoutFn(t.real);
  }
  t.link.controller?.cancel?.(t.link, t.request);
}

/** Marks a clearTimeout of ours, and what it wraps. */
const WRAPS = Symbol('jest-cache-consistency clearTimeout');

/** The callback of the virtual timer firing now (a timer started while it runs with the same code re-arms itself). */
let firing: ((...args: unknown[]) => unknown) | undefined;

function sameCode(a: (...args: unknown[]) => unknown, b: (...args: unknown[]) => unknown): boolean {
  if (a === b) return true;
  try {
    const text = Function.prototype.toString.call(a);
    // Bound and native functions all read `function () { [native code] }`: only the same function is the same code.
    return !text.includes('[native code]') && text === Function.prototype.toString.call(b);
  } catch {
    return false;
  }
}

/**
 * Database drivers, their pools and the ORMs on them: libraries whose own timers are timeouts and housekeeping
 * (acquire, connect and idle timeouts, reapers), never a service's logic. Other libraries' timers (a sleep helper
 * such as `delay`, a retry library, a cache library's grace period or lock wait) may be exactly the service's logic
 * (a "delayed double delete" written with `await delay(5000)`): they stay ordinary steps, however long.
 */
export const INFRASTRUCTURE_PACKAGES: ReadonlySet<string> = new Set([
  'tarn', 'generic-pool', 'sequelize-pool', 'pg-pool', 'pg', 'mysql2', 'mysql', 'mariadb', 'postgres', 'knex', 'sequelize', 'typeorm', 'kysely',
  'drizzle-orm', 'ioredis', 'iovalkey', 'redis', '@redis/client', '@prisma/client', '@prisma/adapter-pg', '@mikro-orm/core', '@mikro-orm/knex',
  '@mikro-orm/postgresql', '@mikro-orm/mysql', '@mikro-orm/mariadb',
]);

/**
 * The package whose code called the timer function: the first frame outside this file and Node's own modules, when
 * it lies under a node_modules folder (the innermost one, so pnpm's `.pnpm/<name>@<version>/node_modules/<name>`
 * gives the package's own name).
 */
function callingPackage(): string | undefined {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 12;
  try {
    Error.captureStackTrace(holder, callingPackage);
  } finally {
    Error.stackTraceLimit = limit;
  }
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    if (line.includes(__filename) || /\(node:|at node:|\(<anonymous>\)|at new Promise \(/.test(line)) continue;
    const names = [...line.matchAll(/[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/g)];
    return names.length > 0 ? names[names.length - 1]![1]!.replace('\\', '/') : undefined;
  }
  return undefined;
}

/** True when the timer was started by a driver, pool or ORM (INFRASTRUCTURE_PACKAGES): only those can be timeouts by their delay. */
function startedByInfrastructure(): boolean {
  const name = callingPackage();
  return name !== undefined && INFRASTRUCTURE_PACKAGES.has(name);
}

type TimerFn = (callback: (...args: unknown[]) => unknown, ms?: number, ...args: unknown[]) => unknown;

export interface VirtualTimersOptions {
  /** A real timer an actor cleared: its pending callback will never start (the tracker must forget it). */
  onRealTimerCleared?(asyncId: number): void;
}

/** The actor whose timers and clock are virtual now, if any. */
function virtualActor(): ActorLink | undefined {
  const link = liveActor();
  return link && link.controller!.virtualTimers ? link : undefined;
}

/** The schedule's clock for a scenario's setup (it runs outside the actors, on the same clock). */
const scenarioClock = new AsyncLocalStorage<() => number>();

/** Runs `fn` (a scenario's setup) with `Date` reading `now()`: the same clock as the schedule's actors. */
export function onScheduleClock<T>(now: () => number, fn: () => T): T {
  return scenarioClock.run(now, fn);
}

/** The schedule's clock, when the code running now is an actor under virtual time (or a setup). */
function virtualNow(): number | undefined {
  const link = virtualActor();
  if (link) return link.controller!.now?.();
  return scenarioClock.getStore()?.();
}

/**
 * Installs the patch on `global` (the test file's global object) and on `timers/promises`. Returns the
 * function that restores both.
 */
export function installVirtualTimers(global: typeof globalThis, options: VirtualTimersOptions = {}): () => void {
  const g = global as unknown as Record<string, unknown>;
  const realSetTimeout = g.setTimeout as TimerFn;
  // A clearTimeout of ours left in place by an earlier race (it still had detached timers): wrap what it wraps.
  const installed = g.clearTimeout as ((handle: unknown) => void) & { [WRAPS]?: (handle: unknown) => void };
  const realClearTimeout = installed[WRAPS] ?? installed;
  const tp = timersPromises as unknown as Record<string, unknown>;
  const realSleep = tp.setTimeout as (ms?: number, value?: unknown, options?: { signal?: AbortSignal }) => Promise<unknown>;
  const promisifyCustom = Symbol.for('nodejs.util.promisify.custom');

  const start = (link: ActorLink, ms: number, fire: () => void, callback?: (...args: unknown[]) => unknown): VirtualTimeout => {
    const controller = link.controller!;
    const delay = Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
    const now = controller.now?.() ?? 0;
    // Only a driver's, pool's or ORM's own timers can be timeouts: a service's re-arming drain or long sleep is its logic.
    const rearming = callback !== undefined && firing !== undefined && sameCode(callback, firing);
    const timeout = (rearming || delay >= (controller.timeoutFromMs ?? Infinity)) && startedByInfrastructure();
    const rearms = timeout && rearming;
    const owner = runStorage.getStore();
    let timer: VirtualTimeout;
    const run = (by: StepController | undefined) => {
      const outer = firing;
      firing = callback;
      try {
        // The callback runs in the actor that started the timer, like a real one would.
        runStorage.run(by as StepController, () => actorStorage.run(link, fire));
      } finally {
        firing = outer;
      }
    };
    const request: StepRequest = {
      info: {
        actor: link.name,
        kind: 'timer',
        command: 'SLEEP',
        args: [delay],
        keys: [],
        writes: [],
        ms: delay,
        deadline: now + delay,
        ...(timeout ? { timeout: true } : {}),
        description: `timer sleep ${delay}ms${rearms ? ' (re-armed: a timeout)' : timeout ? ' (a timeout)' : ''}`,
      },
      execute: async () => {
        if (timer.cleared) return 'cleared';
        timer.fired = true;
        run(owner);
        return 'fired';
      },
      describeResult: (outcome) => formatOutcome(outcome, (v) => String(v)),
      detach: () => {
        if (timer.cleared || timer.fired) return;
        const left = Math.max(0, now + delay - (controller.now?.() ?? now));
        timer.real = actorStorage.exit(() =>
          realSetTimeoutFn(() => {
            detached.delete(timer);
            if (timer.cleared) return;
            timer.fired = true;
            run(DETACHED);
          }, left),
        );
        detached.add(timer);
        if (!timer.refed) timer.real.unref();
      },
    };
    timer = new VirtualTimeout(link, request);
    void link.issue(request).catch(() => {});
    return timer;
  };

  const setTimeoutPatched = function (callback: (...args: unknown[]) => unknown, ms?: number, ...args: unknown[]): unknown {
    const link = virtualActor();
    if (!link || typeof callback !== 'function') return realSetTimeout(callback, ms, ...args);
    return start(
      link,
      Number(ms ?? 0),
      () => {
        callback(...args);
      },
      callback,
    );
  };
  const clearTimeoutPatched = Object.assign(function (handle: unknown): void {
    if (handle instanceof VirtualTimeout) return clearVirtual(handle);
    if (handle && typeof handle === 'object') {
      const id = TIMER_ASYNC_ID(handle);
      if (id !== undefined) options.onRealTimerCleared?.(id);
    }
    realClearTimeout(handle);
  }, { [WRAPS]: realClearTimeout });
  const sleepPatched = function (ms?: number, value?: unknown, opts?: { signal?: AbortSignal }): Promise<unknown> {
    const link = virtualActor();
    if (!link) return realSleep(ms, value, opts);
    return new Promise((resolve, reject) => {
      const signal = opts?.signal;
      if (signal?.aborted) return reject(signal.reason);
      const t = start(link, Number(ms ?? 0), () => resolve(value));
      signal?.addEventListener('abort', () => {
        clearVirtual(t);
        reject(signal.reason);
      });
    });
  };
  (setTimeoutPatched as unknown as Record<symbol, unknown>)[promisifyCustom] = sleepPatched;

  const realSetInterval = g.setInterval as TimerFn;
  const setIntervalPatched = function (callback: (...args: unknown[]) => unknown, ms?: number, ...args: unknown[]): unknown {
    const link = virtualActor();
    if (!link || typeof callback !== 'function') return realSetInterval(callback, ms, ...args);
    // A pool's reaper: never a step (an interval never ends). Real and detached: it is the pool's housekeeping.
    return actorStorage.exit(() => realSetInterval(() => runStorage.run(DETACHED, () => actorStorage.run(link, () => callback(...args))), ms));
  };

  const RealDate = g.Date as DateConstructor;
  const VirtualDate = function (this: unknown, ...args: unknown[]): unknown {
    if (!new.target) {
      const t = virtualNow();
      return t === undefined ? RealDate() : new RealDate(t).toString();
    }
    if (args.length === 0) {
      const t = virtualNow();
      if (t !== undefined) return Reflect.construct(RealDate, [t], new.target);
    }
    return Reflect.construct(RealDate, args, new.target);
  } as unknown as DateConstructor;
  Object.setPrototypeOf(VirtualDate, RealDate);
  Object.defineProperties(VirtualDate, {
    prototype: { value: RealDate.prototype, writable: false },
    name: { value: 'Date' },
    length: { value: RealDate.length },
    now: { value: () => virtualNow() ?? RealDate.now(), writable: true, configurable: true },
  });

  g.setTimeout = setTimeoutPatched;
  g.clearTimeout = clearTimeoutPatched;
  g.setInterval = setIntervalPatched;
  g.Date = VirtualDate;
  tp.setTimeout = sleepPatched;
  return () => {
    g.setTimeout = realSetTimeout;
    // While a detached timer may still be cleared (a pool closed after the race clears its reaper), clearTimeout
    // stays ours: it passes every other handle through.
    if (detached.size === 0) g.clearTimeout = realClearTimeout;
    g.setInterval = realSetInterval;
    if (g.Date === VirtualDate) g.Date = RealDate;
    tp.setTimeout = realSleep;
  };
}
