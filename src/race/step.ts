/**
 * Steps: the unit the race helpers schedule. Every Redis command (a pipeline or MULTI/EXEC counts as one),
 * every SQL statement and every timer an actor starts is one step.
 */

export type StepKind = 'redis' | 'db' | 'timer';

/** What a step is about to do, known before it runs (used by gates, faults and the scheduler). */
export interface StepInfo {
  /** The actor that issued the step. */
  readonly actor: string;
  readonly kind: StepKind;
  /**
   * redis: the command in upper case (`GET`, `EVALSHA`, `MULTI` for a transaction, `PIPELINE` for a pipeline);
   * db: the statement's first keyword (`SELECT`, `UPDATE`, `BEGIN`, ...); timer: `SLEEP`.
   */
  readonly command: string;
  /** redis: the arguments after the command name, as text. db: the statement's parameters. */
  readonly args: readonly unknown[];
  /** redis: every key the step reads or writes (for a pipeline or transaction, of all its commands). */
  readonly keys: readonly string[];
  /** redis: the keys the step may change (write commands and scripts). */
  readonly writes: readonly string[];
  /** db: the SQL text as sent. */
  readonly sql?: string;
  /** timer: the delay asked for, in ms. */
  readonly ms?: number;
  /** timer: when it fires on the schedule's clock (virtual time: the clock when it was started, plus `ms`). */
  readonly deadline?: number;
  /**
   * timer: a timeout (at least `virtualTime.timeoutFromMs`, or re-armed from its own callback): it fires only when
   * no other step can run, and leaves the schedule (becomes a real timer) once every actor has finished.
   */
  readonly timeout?: boolean;
  /** For a pipeline or transaction: its commands, as `[COMMAND, ...args]`. */
  readonly batch?: ReadonlyArray<readonly [string, ...unknown[]]>;
  /** The step without its result: `redis GET user:1`, `db UPDATE users SET name = $1 ... ['Jerry', 1]`. */
  readonly description: string;
}

/** What a step returned (or threw). */
export type StepOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** One executed step of a schedule, in execution order. */
export interface StepRecord extends StepInfo {
  /** 1-based position in the schedule. */
  readonly index: number;
  /** 1-based position among this actor's steps. */
  readonly actorStep: number;
  readonly outcome: StepOutcome;
  /** `-> null`, `-> 1 row`, `-> !ERR ...`. */
  readonly result: string;
  /** Set when a fault was injected into this step: what was injected. */
  readonly fault?: string;
  /** `redis GET user:1 -> null` */
  readonly label: string;
}

/** A step as the instrumentation hands it to whoever controls the actor. */
export interface StepRequest {
  readonly info: StepInfo;
  /** Performs the real I/O. Called at most once. */
  execute(): Promise<unknown>;
  /** Formats a result for the timeline (`-> null`). */
  describeResult(outcome: StepOutcome): string;
  /**
   * What the actor's call settles with once the step is released, when that is not simply the step's own
   * outcome (ioredis: the command's promise, which may chain a NOSCRIPT retry as a further step).
   */
  deliver?(outcome: StepOutcome): unknown;
  /** A timeout still pending when every actor has finished: leaves the schedule and runs as a real timer. */
  detach?(): void;
}
