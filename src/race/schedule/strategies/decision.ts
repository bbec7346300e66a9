/** What the exhaustive searches (brute force and reduced) share about one decision point. */
import { NondeterministicScenarioError } from '../../../errors';
import type { Choice } from '../run';

/** Options in exploration order (indexes into `options`): the previous actor's steps first, then declaration order. */
export function explorationOrder(options: readonly Choice[], previous: string | undefined): number[] {
  const idx = options.map((_, i) => i);
  if (previous === undefined) return idx;
  return [...idx.filter((i) => options[i]!.actor === previous), ...idx.filter((i) => options[i]!.actor !== previous)];
}

/** Same actor, position, kind and command (compared field by field: this runs for every option of every step). */
const same = (a: Choice, b: Choice) => a.actorIndex === b.actorIndex && a.ordinal === b.ordinal && a.shape === b.shape;
const shown = (list: readonly Choice[]) => list.map((o) => `${o.actor}: ${o.shape}`).join(' | ');

/**
 * A replayed prefix must offer the same options (actor, position, kind and command) as when it was first run;
 * arguments may differ (a random lease token). Throws RACE_NONDETERMINISTIC otherwise.
 */
export function assertSameDecision(depth: number, before: readonly Choice[], now: readonly Choice[]): void {
  if (before.length !== now.length || before.some((o, i) => !same(o, now[i]!))) {
    throw new NondeterministicScenarioError(depth + 1, shown(before), shown(now));
  }
}
