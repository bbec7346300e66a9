/**
 * The actor context. Every instrumented client belongs to one `ActorLink`; the link forwards each step to
 * whoever controls the actor right now (the manual gates of `race()`, or one schedule of
 * `everyInterleaving`). Code running inside an actor (`actor.run(fn)`, or an `everyInterleaving` actor) also
 * carries its link in an AsyncLocalStorage, so module-level clients bound with `bindToActors` find it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { RaceActorOutlivedError } from '../../errors';
import type { StepOutcome, StepRequest } from '../step';

export interface StepController {
  /** Called synchronously when an actor issues a step; resolves to what the actor's call returns. */
  issue(link: ActorLink, request: StepRequest): Promise<unknown>;
  /** Drops a step that was issued but is no longer wanted (a cleared timer). */
  cancel?(link: ActorLink, request: StepRequest): void;
  /**
   * Fails the run at once: an actor used a channel the race cannot see (the wire guard, the guard of
   * uninstrumented clients). The run reports `error` whatever the actor's code does with its own errors.
   */
  fail?(error: unknown, inFlight?: Promise<void>): void;
  /** True when timers started inside this actor become steps (virtual time). */
  readonly virtualTimers?: boolean;
  /** Virtual time: what `Date.now()` returns inside the actors it controls. */
  now?(): number;
  /** Virtual time: timers of at least this delay are timeouts (they fire only when no other step can run). */
  readonly timeoutFromMs?: number;
}

export class ActorLink {
  readonly name: string;
  readonly index: number;
  controller: StepController | undefined;
  /** Connections opened for this actor, keyed by the client or database handle they duplicate. */
  readonly connections = new Map<object, { readonly handle: unknown }>();
  /** Set when the race that owns this actor has ended: no connection is opened for it again. */
  closed = false;

  constructor(name: string, index: number) {
    this.name = name;
    this.index = index;
  }

  issue(request: StepRequest): Promise<unknown> {
    const controller = this.controller;
    // Code started by a race or schedule that has ended (it failed, or the race was closed) is stopped here:
    // its late step must not land in the next schedule's or the next race's state.
    const owner = runStorage.getStore();
    if (this.closed || (owner !== undefined && owner !== controller)) return Promise.reject(new RaceActorOutlivedError(this.name, `\`${request.info.description}\``));
    // Not under control (before or after a run): the step just runs.
    if (!controller) return runUncontrolled(request);
    return controller.issue(this, request);
  }
}

async function runUncontrolled(request: StepRequest): Promise<unknown> {
  let outcome: StepOutcome;
  try {
    outcome = { ok: true, value: await request.execute() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  return settle(request, outcome);
}

/** What the actor's call settles with for a step that ran and ended with `outcome`. */
export function settle(request: StepRequest, outcome: StepOutcome): unknown {
  if (request.deliver) return request.deliver(outcome);
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

export const actorStorage = new AsyncLocalStorage<ActorLink>();

/**
 * The controller (a schedule of `everyInterleaving`/`replay`, or a `race()`) that started the code running now.
 * A step issued by code whose controller is no longer in charge of its actor is refused (RACE_ACTOR_OUTLIVED).
 */
export const runStorage = new AsyncLocalStorage<StepController>();

/** Runs an actor's code on behalf of `controller`: its steps are accepted only while that controller runs it. */
export function runActor<T>(controller: StepController, link: ActorLink, fn: () => T): T {
  return runStorage.run(controller, () => actorStorage.run(link, fn));
}

/**
 * The actor whose code is running now, when that code was started by the controller in charge of the actor
 * now: not code a finished schedule left behind, nor a detached timer's callback (see virtualTimers.ts).
 */
export function liveActor(): ActorLink | undefined {
  const link = actorStorage.getStore();
  const controller = link?.controller;
  if (controller === undefined) return undefined;
  const owner = runStorage.getStore();
  return owner === undefined || owner === controller ? link : undefined;
}

/** The actor whose code is running now, if any. */
export function currentActor(): ActorLink | undefined {
  return actorStorage.getStore();
}

/** Runs `fn` outside any actor (for the real I/O of a granted step). */
export function outsideActors<T>(fn: () => T): T {
  return actorStorage.exit(fn);
}
