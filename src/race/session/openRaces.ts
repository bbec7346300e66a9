/**
 * The races of the current test that are still open, for the preset's afterEach. Kept apart from race.ts so
 * that the setup file (loaded by every test file) does not load the race helpers themselves.
 */
export interface OpenRace {
  close(): Promise<void>;
}

const open = new Set<OpenRace>();

export function registerOpenRace(race: OpenRace): void {
  open.add(race);
}

export function forgetOpenRace(race: OpenRace): void {
  open.delete(race);
}

/** Whether the current test left a race open. */
export function anyOpenRaces(): boolean {
  return open.size > 0;
}

/**
 * Closes every race still open (the preset runs this after each test): their connections are closed, and the
 * first gate problem (GATE_NEVER_REACHED, GATE_NOT_RELEASED) is thrown, which fails the test. Nothing to do,
 * and nothing loaded, when the test opened no race.
 */
export async function closeOpenRacesIfAny(): Promise<void> {
  if (open.size === 0) return;
  let first: unknown;
  for (const race of [...open]) {
    try {
      await race.close();
    } catch (error) {
      first ??= error;
    } finally {
      open.delete(race);
    }
  }
  if (first) throw first;
}

// --- everyInterleaving / replay calls, to catch a missing `await` ---

type ExplorationKind = 'everyInterleaving' | 'replay';

/** Set by the exploration loop's owner: the loop stops before its next schedule once `stopped` is true. */
export interface ExplorationSignal {
  readonly stopped: boolean;
}

interface Exploration {
  readonly kind: ExplorationKind;
  /** The test that made the call (Jest's `currentTestIdentity`). */
  readonly test: object | undefined;
  /** Where the call is, outside the library. */
  readonly site: string;
  /** The call's own promise, handled: it never raises an unhandled rejection. */
  readonly outcome: Promise<unknown>;
  settled: boolean;
  failure: { error: unknown } | undefined;
  /** Someone subscribed to the returned promise (await, return, then, catch, Promise.all...). */
  observed: boolean;
  signal: { stopped: boolean };
}

const explorations = new Set<Exploration>();
let checkedAfterEach = false;

/**
 * The setup file calls this when it installs its afterEach check: from then on an everyInterleaving or replay
 * call whose promise nobody awaited fails its test with RACE_NOT_AWAITED, instead of an unhandled rejection.
 * Without the check the calls return their plain promise.
 */
export function checkExplorationsAfterEach(): void {
  checkedAfterEach = true;
}

/** The promise handed to the caller: it notes being subscribed to, and settles as the exploration does. */
class WatchedPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }
  readonly #inner: Promise<T>;
  readonly #onObserved: () => void;
  constructor(inner: Promise<T>, onObserved: () => void) {
    super(() => {});
    this.#inner = inner;
    this.#onObserved = onObserved;
  }
  // `await`, `return`, catch, finally, Promise.all and Jest's `.rejects` all go through `then`.
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.#onObserved();
    return this.#inner.then(onFulfilled, onRejected);
  }
}

/**
 * Runs an everyInterleaving / replay call. A second call while one still runs is refused with
 * RACE_NOT_AWAITED (the two would reset the same Redis and database under each other's schedules).
 */
export function trackExploration<T>(kind: ExplorationKind, test: object | undefined, site: string, run: (signal: ExplorationSignal) => Promise<T>): Promise<T> {
  const running = [...explorations].find((e) => !e.settled);
  if (running) {
    const error = notAwaited(kind, `it started while an earlier ${running.kind}(...) call was still running; that call was not awaited (or the two were started together, which cannot work: every schedule resets the same Redis and database). Await each call before the next one starts`, site);
    return Promise.reject(error);
  }
  const signal = { stopped: false };
  const inner = Promise.resolve().then(() => run(signal));
  const entry: Exploration = {
    kind,
    test,
    site,
    settled: false,
    failure: undefined,
    observed: false,
    signal,
    outcome: inner.then(
      () => {
        entry.settled = true;
      },
      (error: unknown) => {
        entry.settled = true;
        entry.failure = { error };
      },
    ),
  };
  explorations.add(entry);
  if (!checkedAfterEach) {
    void entry.outcome.then(() => explorations.delete(entry));
    return inner;
  }
  return new WatchedPromise(inner, () => {
    entry.observed = true;
  });
}

/** Whether an everyInterleaving / replay call is left to check. */
export function anyExplorations(): boolean {
  return explorations.size > 0;
}

/**
 * After each test: a call of the test that is still running is stopped (after its current schedule; its
 * state is restored and its connections closed before the next test), and one whose promise nobody awaited
 * fails the test with RACE_NOT_AWAITED.
 */
export async function assertExplorationsAwaited(test?: object): Promise<void> {
  const mine = [...explorations].filter((e) => test === undefined || e.test === undefined || e.test === test);
  if (mine.length === 0) return;
  let first: Error | undefined;
  for (const e of mine) {
    const wasRunning = !e.settled;
    e.signal.stopped = true;
    await e.outcome;
    explorations.delete(e);
    if (first || (!wasRunning && e.observed)) continue;
    // The error that stopped it is not news.
    const failure = e.failure && (e.failure.error as { code?: unknown } | null)?.code !== 'RACE_NOT_AWAITED' ? e.failure : undefined;
    const failed = failure ? `; it failed: ${firstLine(failure.error)}` : '';
    let why: string;
    if (!wasRunning) why = `the test never read its result${failed || ' (it passed, but a failure would have been lost the same way)'}`;
    else if (e.observed) {
      // Subscribed to, yet still running: a `.then(...)` the test did not return, or the test timed out.
      why = `the test ended while it was still running (it was stopped after its current schedule${failed}). If the test awaited it, the test timed out first: give it more time (the third argument of it(), or jest.setTimeout)`;
    } else why = `the test ended while it was still running (it was stopped after its current schedule${failed})`;
    first = notAwaited(e.kind, why, e.site, failure?.error);
  }
  if (first) throw first;
}

function firstLine(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return (typeof message === 'string' ? message : String(error)).split('\n')[0]!;
}

function notAwaited(kind: ExplorationKind, why: string, site: string, cause?: unknown): Error {
  // Loaded on failure only: the setup file loads this module in every test file.
  const { RaceNotAwaitedError } = require('../../errors') as typeof import('../../errors');
  const error = new RaceNotAwaitedError(kind, why, cause);
  error.stack = `${error.name}: ${error.message}\n${site}`;
  return error;
}
/** The test ended without awaiting the call (the preset's afterEach set the signal): no further schedule runs. */
export function stopIfAbandoned(signal: ExplorationSignal, kind: 'everyInterleaving' | 'replay'): void {
  if (!signal.stopped) return;
  const { RaceNotAwaitedError } = require('../../errors') as typeof import('../../errors');
  throw new RaceNotAwaitedError(kind, 'the test ended while it was still running');
}

