/**
 * Virtual time for actors. While `everyInterleaving` runs, `setTimeout` (the global one and
 * `timers/promises`' one) called inside an actor does not start a real timer: it issues a timer step
 * (`timer sleep 500ms`). The scheduler orders that step like any other, and when it is granted the callback
 * runs at once, in the actor. So a service that sleeps 500 ms between two deletes ("delayed double delete")
 * costs no real time, and every order of its sleep against the other actors' steps is explored: time is not a
 * lock, and the race treats it as one more step.
 *
 * Outside actors, and in `race()` (manual gates), timers are real and untouched.
 */
import timersPromises = require('node:timers/promises');
import { RaceUninstrumentedIoError } from '../../errors';
import { actorStorage, type ActorLink } from './actorLink';
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

let nextId = 1;

/** What `setTimeout` returns inside an actor: enough of Node's Timeout for callers to hold and clear it. */
export class VirtualTimeout {
  readonly id = nextId++;
  cleared = false;
  fired = false;
  constructor(
    readonly link: ActorLink,
    readonly request: StepRequest,
  ) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
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

function clearVirtual(t: VirtualTimeout): void {
  if (t.cleared || t.fired) return;
  t.cleared = true;
  t.link.controller?.cancel?.(t.link, t.request);
}

type TimerFn = (callback: (...args: unknown[]) => unknown, ms?: number, ...args: unknown[]) => unknown;

export interface VirtualTimersOptions {
  /** A real timer an actor cleared: its pending callback will never start (the tracker must forget it). */
  onRealTimerCleared?(asyncId: number): void;
}

/**
 * Installs the patch on `global` (the test file's global object) and on `timers/promises`. Returns the
 * function that restores both.
 */
export function installVirtualTimers(global: typeof globalThis, options: VirtualTimersOptions = {}): () => void {
  const g = global as unknown as Record<string, unknown>;
  const realSetTimeout = g.setTimeout as TimerFn;
  const realClearTimeout = g.clearTimeout as (handle: unknown) => void;
  const tp = timersPromises as unknown as Record<string, unknown>;
  const realSleep = tp.setTimeout as (ms?: number, value?: unknown, options?: { signal?: AbortSignal }) => Promise<unknown>;
  const promisifyCustom = Symbol.for('nodejs.util.promisify.custom');

  const virtualActor = (): ActorLink | undefined => {
    const link = actorStorage.getStore();
    return link && link.controller?.virtualTimers ? link : undefined;
  };

  const start = (link: ActorLink, ms: number, fire: () => void): VirtualTimeout => {
    const delay = Number.isFinite(ms) && ms > 0 ? Math.floor(ms) : 0;
    let timer: VirtualTimeout;
    const request: StepRequest = {
      info: {
        actor: link.name,
        kind: 'timer',
        command: 'SLEEP',
        args: [delay],
        keys: [],
        writes: [],
        ms: delay,
        description: `timer sleep ${delay}ms`,
      },
      execute: async () => {
        if (timer.cleared) return 'cleared';
        timer.fired = true;
        // The callback runs in the actor that started the timer, like a real one would.
        actorStorage.run(link, fire);
        return 'fired';
      },
      describeResult: (outcome) => formatOutcome(outcome, (v) => String(v)),
    };
    timer = new VirtualTimeout(link, request);
    void link.issue(request).catch(() => {});
    return timer;
  };

  const setTimeoutPatched = function (callback: (...args: unknown[]) => unknown, ms?: number, ...args: unknown[]): unknown {
    const link = virtualActor();
    if (!link || typeof callback !== 'function') return realSetTimeout(callback, ms, ...args);
    return start(link, Number(ms ?? 0), () => {
      callback(...args);
    });
  };
  const clearTimeoutPatched = function (handle: unknown): void {
    if (handle instanceof VirtualTimeout) return clearVirtual(handle);
    if (handle && typeof handle === 'object') {
      const id = TIMER_ASYNC_ID(handle);
      if (id !== undefined) options.onRealTimerCleared?.(id);
    }
    realClearTimeout(handle);
  };
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
    if (link) {
      const error = new RaceUninstrumentedIoError(
        link.name,
        'started a setInterval timer: an interval never ends, so it cannot be ordered as steps (use setTimeout, which is virtual inside actors)',
      );
      (link.controller as { fail?(e: unknown): void } | undefined)?.fail?.(error);
      throw error;
    }
    return realSetInterval(callback, ms, ...args);
  };

  g.setTimeout = setTimeoutPatched;
  g.clearTimeout = clearTimeoutPatched;
  g.setInterval = setIntervalPatched;
  tp.setTimeout = sleepPatched;
  return () => {
    g.setTimeout = realSetTimeout;
    g.clearTimeout = realClearTimeout;
    g.setInterval = realSetInterval;
    tp.setTimeout = realSleep;
  };
}
