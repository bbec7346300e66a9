/**
 * Which clients and handles the race already routes: bound with bindToActors (a module-level object, bound by hand
 * or on first use), or an actor's own connection (instrumented when it was opened). The hooks that bind objects on
 * first use (autoBind.ts) leave these alone.
 */
const BOUND = Symbol.for('jest-cache-consistency.race.bound');

/** True for a client or handle the race routes already. */
export function isBound(o: object): boolean {
  return (o as { [BOUND]?: boolean })[BOUND] === true;
}

/** Marks `o` as routed by the race. */
export function markBound(o: object): void {
  Object.defineProperty(o, BOUND, { value: true, configurable: true });
}
