/**
 * One schedule: the actors run under a controller that lets exactly one step proceed at a time.
 *
 * The loop: start every actor (each runs its local code up to its first step, where it parks); then, while
 * some step is pending, ask the chooser which one goes, execute it (the real Redis command or SQL statement,
 * awaited to its reply), deliver the reply to its actor, and wait until the actors are quiescent again.
 *
 * Quiescent means every actor is parked on a step, finished, or blocked on a promise that only another
 * actor's progress can settle. The signals are real, never timers:
 * - parking is synchronous: the instrumented call registers the step before it returns;
 * - finishing is the actor's promise settling, a microtask after its last line;
 * - after the reply is delivered the actor's continuation runs in microtasks, so once a macrotask turn
 *   (`setImmediate`) has passed, every actor that could park or finish from that reply has done so;
 * - an actor that did neither and started one-shot work of its own (a file read, a real timer) is waited for
 *   (async_hooks tell which work is its own, see instrument/resourceTracker.ts); one that started none is blocked.
 * If no step is pending and an actor has not finished, nothing can ever settle it: that is reported.
 */
import { setImmediate as realSetImmediate, setTimeout as realSetTimeout, clearTimeout as realClearTimeout } from 'node:timers';
import { RaceActorOutlivedError, RaceActorStuckError, RaceStepStalledError, RaceUninstrumentedIoError } from '../../errors';
import { runActor, type ActorLink, type StepController } from '../instrument/actorLink';
import { formatError, formatValue } from '../instrument/labels';
import type { StepRedactor } from '../report/redactSteps';
import type { ResourceTracker } from '../instrument/resourceTracker';
import type { StepRecord, StepRequest } from '../step';
import { FaultPlan, type FaultRule } from './faults';
import { deliverStep, runStep } from './runStep';
import { footprintOf, type Footprint } from './footprint';

export interface Choice {
  readonly actor: string;
  readonly actorIndex: number;
  /** Position among this actor's pending steps (0 unless an actor has several steps in flight at once). */
  readonly ordinal: number;
  readonly description: string;
  /** The step's kind and command (`redis SET`): what must be the same on every run of the same prefix. */
  readonly shape: string;
  /** What the step may read and write: which other steps it commutes with (the reduced search uses it). */
  readonly footprint: Footprint;
  /** When the step was issued, counted over the schedule (the same on every run of the same prefix). */
  readonly issued: number;
}

export interface DecisionContext {
  /** 0-based number of steps already granted in this schedule. */
  readonly depth: number;
  /** The actor of the previous step. */
  readonly previous: string | undefined;
}

export interface Chooser {
  /** Returns the index in `options` (sorted by actor declaration order, then ordinal) of the step to run. */
  choose(options: readonly Choice[], context: DecisionContext): number;
}

export type ActorOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown; /** true when a fault was injected into this actor in this schedule */ readonly provoked: boolean };

export type { FaultRule } from './faults';

export interface ScheduleResult {
  readonly records: StepRecord[];
  readonly choices: Array<{ actor: string; ordinal: number }>;
  readonly outcomes: Record<string, ActorOutcome>;
  /** Errors thrown by timer callbacks (work an actor left running in the background). */
  readonly backgroundErrors: Array<{ actor: string; error: unknown; step: string }>;
  readonly switches: number;
  readonly preemptions: number;
}

export interface ActorStart {
  readonly link: ActorLink;
  readonly run: () => unknown;
}

interface Pending {
  readonly seq: number;
  readonly link: ActorLink;
  readonly request: StepRequest;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** What the actor's call got (set right after creation). */
  promise?: Promise<unknown>;
}

interface ActorState {
  done: boolean;
  outcome: ActorOutcome | undefined;
  steps: number;
  faulted: boolean;
  /** The actor's last executed step (its label is worked out only for a report). */
  last: StepRecord | undefined;
}

const turn = () => new Promise<void>((resolve) => realSetImmediate(resolve));

export interface ScheduleOptions {
  readonly tracker: ResourceTracker;
  readonly faults: readonly FaultRule[];
  readonly stallTimeoutMs: number;
  /** The `redact` rules in effect: what a label, a fault or an error message may show of a step. */
  readonly redactor?: StepRedactor;
  /** Virtual time: the clock (`Date.now()` inside the actors) when the schedule starts. Default 0. */
  readonly clockStart?: number;
  /** Virtual time: timers of at least this delay are timeouts. Default Infinity (none). */
  readonly timeoutFromMs?: number;
}

export class ScheduleRun implements StepController {
  readonly virtualTimers = true;
  readonly timeoutFromMs: number;
  readonly #options: ScheduleOptions;
  /** The schedule's clock: moves only when a timer fires, to that timer's deadline. */
  #now: number;
  readonly #links: ActorLink[];
  readonly #state = new Map<ActorLink, ActorState>();
  #pending: Pending[] = [];
  #seq = 0;
  #wake: (() => void) | undefined;
  #fatal: unknown;
  readonly #inFlight: Array<Promise<void>> = [];
  readonly #records: StepRecord[] = [];
  readonly #choices: Array<{ actor: string; ordinal: number }> = [];
  readonly #background: Array<{ actor: string; error: unknown; step: string }> = [];
  readonly #faults: FaultPlan;
  #switches = 0;
  #preemptions = 0;
  #previous: ActorLink | undefined;

  constructor(links: readonly ActorLink[], options: ScheduleOptions) {
    this.#links = [...links];
    this.#options = options;
    this.#now = options.clockStart ?? 0;
    this.timeoutFromMs = options.timeoutFromMs ?? Infinity;
    this.#faults = new FaultPlan(options.faults);
    for (const link of links) this.#state.set(link, { done: false, outcome: undefined, steps: 0, faulted: false, last: undefined });
  }

  /** Virtual time: what `Date.now()` returns inside the actors. */
  now(): number {
    return this.#now;
  }

  /** The steps executed so far (for a report after a fatal error). */
  get records(): readonly StepRecord[] {
    return this.#records;
  }

  issue(link: ActorLink, request: StepRequest): Promise<unknown> {
    if (!this.#state.has(link)) return Promise.reject(new Error(`actor ${link.name} is not part of this schedule`));
    let pending!: Pending;
    const promise = new Promise<unknown>((resolve, reject) => {
      pending = { seq: this.#seq++, link, request, resolve, reject };
    });
    pending.promise = promise;
    this.#pending.push(pending);
    this.#poke();
    return promise;
  }

  cancel(_link: ActorLink, request: StepRequest): void {
    const i = this.#pending.findIndex((p) => p.request === request);
    if (i >= 0) this.#pending.splice(i, 1);
    this.#poke();
  }

  /**
   * Aborts the schedule with `error` at the next point the scheduler looks (an actor used a channel it cannot
   * see). `inFlight` settles when that I/O has had its answer: the run waits for it before it ends, so the actor
   * is not left holding a connection (a pool's client) that the next run would then wait for.
   */
  fail(error: unknown, inFlight?: Promise<void>): void {
    this.#fatal ??= error;
    if (inFlight) this.#inFlight.push(inFlight);
    this.#poke();
  }

  #poke(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #activity(): Promise<void> {
    return new Promise<void>((resolve) => {
      const previous = this.#wake;
      this.#wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  async run(starts: readonly ActorStart[], chooser: Chooser): Promise<ScheduleResult> {
    for (const s of starts) s.link.controller = this;
    try {
      this.#start(starts);
      await this.#settle();
      for (let depth = 0; ; depth++) {
        if (this.#fatal !== undefined) throw this.#fatal;
        if (this.#links.every((l) => this.#state.get(l)!.done)) this.#detachTimeouts();
        const options = this.#optionsNow();
        if (options.length === 0) {
          const stuck = this.#links.filter((l) => !this.#state.get(l)!.done);
          if (stuck.length > 0) {
            throw new RaceActorStuckError(
              stuck.map((l) => l.name),
              stuck
                .map((l) => {
                  const s = this.#state.get(l)!;
                  return s.last ? `  ${l.name}: its last step was ${s.last.index} \`${s.last.label}\`` : `  ${l.name}: it ran no step at all`;
                })
                .join('\n'),
            );
          }
          break;
        }
        const index = chooser.choose(options, { depth, previous: this.#previous?.name });
        const choice = options[index];
        if (!choice) throw new Error(`the chooser picked option ${index} of ${options.length}`);
        const pending = this.#take(choice);
        this.#count(pending.link, options);
        this.#choices.push({ actor: choice.actor, ordinal: choice.ordinal });
        await this.#grant(pending);
        await this.#settle();
      }
      const outcomes: Record<string, ActorOutcome> = {};
      for (const l of this.#links) {
        const outcome = this.#state.get(l)!.outcome!;
        // An own property whatever the name (an actor may be called `__proto__`), as Object.fromEntries makes it.
        if (l.name === '__proto__') Object.defineProperty(outcomes, l.name, { value: outcome, enumerable: true, writable: true, configurable: true });
        else outcomes[l.name] = outcome;
      }
      return {
        records: this.#records,
        choices: this.#choices,
        outcomes,
        backgroundErrors: this.#background,
        switches: this.#switches,
        preemptions: this.#preemptions,
      };
    } finally {
      for (const s of starts) if (s.link.controller === this) s.link.controller = undefined;
      if (this.#inFlight.length > 0) await this.#drain();
      // Anything still parked is abandoned: settle nothing, so no unhandled rejection appears later.
      this.#pending = [];
    }
  }

  /**
   * After an actor's uninstrumented I/O failed the run: the actors' parked steps are refused (RACE_ACTOR_OUTLIVED),
   * as any step they issue from now on is, their controller having let go. A library waiting on one (a query
   * holding its pool's connection) then ends instead of holding it for good. The run waits, at most
   * `stallTimeoutMs`, for the uninstrumented I/O's answers and the actors' code after them, so that nothing of this
   * run still holds a connection when the next run (or the next test) starts. A refused step nobody awaited (a
   * fire-and-forget call) raises no unhandled rejection.
   */
  async #drain(): Promise<void> {
    // The controller has let go, so no step is added from here on (link.issue refuses it).
    for (const p of this.#pending.splice(0)) {
      p.promise?.catch(() => {});
      p.reject(new RaceActorOutlivedError(p.link.name, `\`${p.request.info.description}\``));
    }
    let timer: ReturnType<typeof realSetTimeout> | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = realSetTimeout(resolve, this.#options.stallTimeoutMs);
    });
    const finished = (async () => {
      for (let seen = 0; seen < this.#inFlight.length; seen = this.#inFlight.length) await Promise.allSettled(this.#inFlight.slice(seen));
      // The answers' callbacks (a pool taking its client back) and the actors' code after them.
      for (let i = 0; i < 20; i++) await turn();
    })();
    await Promise.race([finished, limit]);
    realClearTimeout(timer);
  }

  #start(starts: readonly ActorStart[]): void {
    for (const s of starts) {
      const state = this.#state.get(s.link)!;
      let p: Promise<unknown>;
      try {
        p = Promise.resolve(runActor(this, s.link, s.run));
      } catch (error) {
        p = Promise.reject(error);
      }
      p.then(
        (value) => {
          state.done = true;
          state.outcome = { ok: true, value };
          this.#poke();
        },
        (error) => {
          state.done = true;
          state.outcome = { ok: false, error, provoked: state.faulted };
          this.#poke();
        },
      );
    }
  }

  /**
   * The steps that may go next. Every pending step, except timers that cannot fire yet on the schedule's clock: an
   * actor's timers fire in the order of their deadlines, and a timeout only when no other step can run.
   */
  #optionsNow(): Choice[] {
    // Each actor's next ordinary timer and next timeout: the earliest deadline (then the first issued). The two kinds
    // are ordered apart: a pending timeout never holds back an ordinary timer of the same actor.
    let timers: Map<ActorLink, { ordinary?: Pending; timeout?: Pending }> | undefined;
    for (const p of this.#pending) {
      if (p.request.info.kind !== 'timer') continue;
      timers ??= new Map();
      let next = timers.get(p.link);
      if (!next) timers.set(p.link, (next = {}));
      const kind = p.request.info.timeout ? 'timeout' : 'ordinary';
      const first = next[kind];
      if (!first || p.request.info.deadline! < first.request.info.deadline!) next[kind] = p;
    }
    const offered = (p: Pending) => {
      if (p.request.info.kind !== 'timer') return true;
      const next = timers!.get(p.link)!;
      return p.request.info.timeout ? next.timeout === p : next.ordinary === p;
    };
    const idle = timers === undefined || !this.#pending.some((p) => offered(p) && !p.request.info.timeout);
    const redactor = this.#options.redactor;
    const out: Choice[] = [];
    for (const link of this.#links) {
      let ordinal = 0;
      for (const p of this.#pending) {
        if (p.link !== link) continue;
        const position = ordinal++;
        if (timers !== undefined && (!offered(p) || (p.request.info.timeout && !idle))) continue;
        const info = p.request.info;
        out.push({
          actor: link.name,
          actorIndex: link.index,
          ordinal: position,
          // Read only for a report (a replay that diverges): worked out when read.
          get description() {
            return redactor?.description(info) ?? info.description;
          },
          shape: `${info.kind} ${info.command}`,
          // Only the reduced search reads it: worked out (once per step, footprintOf caches) when first read.
          get footprint() {
            return footprintOf(info);
          },
          issued: p.seq,
        });
      }
    }
    return out;
  }

  /** Once every actor has finished: the timeouts still pending (a pool's idle timer) leave the schedule. */
  #detachTimeouts(): void {
    if (!this.#pending.some((p) => p.request.info.timeout)) return;
    const keep: Pending[] = [];
    for (const p of this.#pending) {
      if (p.request.info.timeout && p.request.detach) p.request.detach();
      else keep.push(p);
    }
    this.#pending = keep;
  }

  #take(choice: Choice): Pending {
    let ordinal = 0;
    for (let i = 0; i < this.#pending.length; i++) {
      const p = this.#pending[i]!;
      if (p.link.name !== choice.actor) continue;
      if (ordinal++ === choice.ordinal) {
        this.#pending.splice(i, 1);
        return p;
      }
    }
    throw new Error(`no pending step ${choice.actor}~${choice.ordinal}`);
  }

  #count(link: ActorLink, options: readonly Choice[]): void {
    const prev = this.#previous;
    if (prev && prev !== link) {
      this.#switches++;
      if (options.some((o) => o.actor === prev.name)) this.#preemptions++;
    }
    this.#previous = link;
  }

  async #grant(p: Pending): Promise<void> {
    const { link, request } = p;
    const state = this.#state.get(link)!;
    const fault = this.#faults.take(request.info);
    if (fault) state.faulted = true;
    if (request.info.deadline !== undefined && request.info.deadline > this.#now) this.#now = request.info.deadline;
    const record = await runStep(request, {
      index: this.#records.length + 1,
      actorStep: state.steps + 1,
      fault,
      redactor: this.#options.redactor,
      guard: (work, description) => this.#stallGuard(work, link, description),
      isGuardError: (error) => error instanceof RaceStepStalledError,
    });
    state.steps++;
    this.#records.push(record);
    state.last = record;
    if (record.kind === 'timer' && !record.outcome.ok) this.#background.push({ actor: link.name, error: record.outcome.error, step: record.label });
    try {
      p.resolve(deliverStep(request, record));
    } catch (error) {
      p.reject(error);
    }
  }

  #stallGuard<T>(work: Promise<T>, link: ActorLink, description: string): Promise<T> {
    const ms = this.#options.stallTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = realSetTimeout(() => {
        reject(
          new RaceStepStalledError(
            link.name,
            `the step \`${description}\``,
            ms,
            'The scheduler runs one step at a time and waits for its reply. A step that waits for another actor ' +
              '(a row lock held by an open transaction, a blocking command such as BLPOP) can never complete ' +
              'under it; a server that does not answer neither.',
          ),
        );
      }, ms);
      timer.unref?.();
      work.then(
        (v) => {
          realClearTimeout(timer);
          resolve(v);
        },
        (e) => {
          realClearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  /** Waits until every actor is parked, finished or blocked (see the file comment). */
  async #settle(): Promise<void> {
    const tracker = this.#options.tracker;
    for (;;) {
      await turn();
      if (this.#fatal !== undefined) throw this.#fatal;
      if (tracker.connections.length > 0) {
        const c = tracker.connections[0]!;
        throw new RaceUninstrumentedIoError(c.actor.name, `opened a network connection (${c.type}) inside the actor`);
      }
      const live = tracker.live();
      if (live.length === 0) return;
      // An actor waits for its own one-shot work (a file read, a real timer): wait for it too.
      const first = live[0]!;
      await new Promise<void>((resolve, reject) => {
        const timer = realSetTimeout(() => {
          reject(
            new RaceStepStalledError(
              first.actor.name,
              `work the actor started outside its steps (${live.map((r) => r.type).join(', ')})`,
              this.#options.stallTimeoutMs,
              'An actor awaited a timer or I/O the race cannot see. Timers started with setTimeout inside an actor ' +
                'are virtual under everyInterleaving; a timer function captured before the race started (or ' +
                'setInterval) is real, and so is file or network I/O. Keep such work out of actors.',
            ),
          );
        }, this.#options.stallTimeoutMs);
        timer.unref?.();
        void Promise.race([tracker.changed(), this.#activity()]).then(() => {
          realClearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** `writer  threw Error: boom` / `reader  returned {id: 1}` */
export function describeOutcome(outcome: ActorOutcome | undefined): string {
  if (!outcome) return 'did not finish';
  if (outcome.ok) return outcome.value === undefined ? 'returned' : `returned ${formatValue(outcome.value, 80)}`;
  return `threw ${formatError(outcome.error).split('\n')[0]}${outcome.provoked ? ' (after an injected fault)' : ''}`;
}

