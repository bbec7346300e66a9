/**
 * "Unknown option, did you mean ...": the one check every options object of the library runs, so that a
 * misspelt key (`chek`, `stallTimeoutMS`) fails loudly instead of being ignored. Each caller throws its own
 * coded error (or matcher error) with the text this module makes.
 */

/**
 * The keys of an options type, written once as `{ key: true, ... }`. The type makes the list complete: adding
 * an option to the interface without adding it here is a compile error, so the list cannot drift.
 *
 * @example
 * const SCENARIO_KEYS = optionKeys<Scenario>({ actors: true, setup: true, check: true, ... });
 */
export function optionKeys<T>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(keys));
}

/** Edit distance: insertions, deletions, substitutions and swaps of two neighbours (`nht` -> `nth`) count 1. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `word` (case-insensitive, at most `maxDistance` edits), if any. */
export function closestWord(word: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const d = editDistance(candidate.toLowerCase(), word.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

export interface UnknownKey {
  readonly key: string;
  /** The known key it most likely meant. */
  readonly suggestion: string | undefined;
  /** `unknown option. Did you mean "check"? Known options: actors, setup, check.` */
  readonly problem: string;
}

/** The first own key of `options` that is not in `known`, with a "did you mean"; undefined when all are known. */
export function findUnknownKey(options: object, known: readonly string[]): UnknownKey | undefined {
  const key = Object.keys(options).find((k) => !known.includes(k));
  if (key === undefined) return undefined;
  const suggestion = closestWord(key, known);
  return {
    key,
    suggestion,
    problem: `unknown option.${suggestion ? ` Did you mean "${suggestion}"?` : ''} Known options: ${known.join(', ')}.`,
  };
}
