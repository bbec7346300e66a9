/**
 * Which asynchronous work an actor has started outside its steps, seen through async_hooks.
 *
 * After a step's reply is delivered, an actor runs local code until it issues its next step or finishes:
 * both are synchronous signals the scheduler sees. If neither has come once the microtask queue is empty,
 * the actor is waiting on something. This tracker tells the two cases apart:
 * - it started one-shot work of its own (a file read, a DNS lookup, a real timer it captured before the race
 *   patched `setTimeout`, a `setImmediate`): that work completes by itself, so the scheduler waits for it
 *   (nobody else moves meanwhile, so the order stays the same on every run);
 * - it started none: it awaits a promise only another actor (or nothing) can resolve. It is blocked, and the
 *   scheduler moves on; if nothing can move any more, that is reported as a stuck actor, never a hang.
 * A network connection opened inside an actor is a channel the race cannot see: reported as an error.
 *
 * Only resource creation and the start of their callbacks are observed (no destroy hook: that would track
 * every promise's garbage collection).
 */
import { createHook, type AsyncHook } from 'node:async_hooks';
import { liveActor, type ActorLink } from './actorLink';

/**
 * Requests that complete once, by themselves, and call back into JavaScript when they do (so their `before`
 * hook fires). Work Node starts without a callback (the entropy pool refill behind crypto.randomUUID) never
 * fires one, so crypto jobs are not listed: an actor awaiting one is treated as blocked until it resumes.
 */
const ONE_SHOT = new Set([
  'Timeout',
  'Immediate',
  'FSREQCALLBACK',
  'FSREQPROMISE',
  'FILEHANDLECLOSEREQ',
  'STATWATCHER',
  'GETADDRINFOREQWRAP',
  'GETNAMEINFOREQWRAP',
  'QUERYWRAP',
  'TCPCONNECTWRAP',
  'PIPECONNECTWRAP',
]);

/** Channels that carry I/O the race cannot see. */
const CONNECTIONS = new Set(['TCPWRAP', 'PIPEWRAP', 'TLSWRAP', 'UDPWRAP', 'HTTPCLIENTREQUEST', 'HTTP2SESSION']);

export interface LiveResource {
  readonly actor: ActorLink;
  readonly type: string;
}

export class ResourceTracker {
  readonly #live = new Map<number, LiveResource>();
  readonly #actors = new Set<ActorLink>();
  #hook: AsyncHook | undefined;
  #wake: (() => void) | undefined;
  /** Connections opened inside an actor, in the order seen. */
  readonly connections: LiveResource[] = [];

  /** Starts tracking work started by these actors. */
  watch(actors: Iterable<ActorLink>): void {
    for (const a of actors) this.#actors.add(a);
    if (this.#hook) return;
    this.#hook = createHook({
      init: (asyncId, type) => {
        if (type === 'PROMISE') return;
        // Not code a finished schedule left behind, nor a detached timer's callback (a pool's housekeeping).
        const actor = liveActor();
        if (!actor || !this.#actors.has(actor)) return;
        if (ONE_SHOT.has(type)) this.#live.set(asyncId, { actor, type });
        else if (CONNECTIONS.has(type)) this.connections.push({ actor, type });
      },
      before: (asyncId) => {
        if (this.#live.delete(asyncId)) {
          const wake = this.#wake;
          this.#wake = undefined;
          wake?.();
        }
      },
    });
    this.#hook.enable();
  }

  /**
   * Stops observing until resume(): between a race's schedules no actor runs, and whatever was seen there is
   * forgotten by the next schedule's clear() anyway; the hooks cost a call for every resource the reset,
   * setup and check create.
   */
  pause(): void {
    this.#hook?.disable();
  }

  resume(): void {
    this.#hook?.enable();
  }

  stop(): void {
    this.#hook?.disable();
    this.#hook = undefined;
    this.#actors.clear();
    this.#live.clear();
    this.connections.length = 0;
  }

  /** Forgets everything seen so far (between schedules). */
  clear(): void {
    this.#live.clear();
    this.connections.length = 0;
  }

  /** One-shot work still pending, per actor. */
  live(): LiveResource[] {
    return [...this.#live.values()];
  }

  /** Resolves when one tracked resource's callback starts. */
  changed(): Promise<void> {
    return new Promise<void>((resolve) => {
      const previous = this.#wake;
      this.#wake = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Forgets one resource (a real timer that was cleared: its callback will never start). */
  forgetId(asyncId: number): void {
    if (this.#live.delete(asyncId)) {
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    }
  }

  /** Drops an actor's pending work (the actor is abandoned after a failure). */
  forget(actor: ActorLink): void {
    for (const [id, r] of this.#live) if (r.actor === actor) this.#live.delete(id);
  }
}
