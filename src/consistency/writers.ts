import { AsyncLocalStorage } from 'node:async_hooks';
import type { Inconsistency } from './compare';

/**
 * "Who wrote this key": the race helpers know it (their timeline records every step); the failure message
 * shows it. A lookup answers with one line (`writer  redis SET user:1 (step 5)`), or undefined.
 */
export type WriterLookup = (key: string, inconsistency: Inconsistency) => string | undefined;

const scoped = new AsyncLocalStorage<WriterLookup>();
const global: WriterLookup[] = [];

/**
 * Runs `fn` with `lookup` answering "written by" for every consistency check inside it (across awaits).
 * The innermost scope wins, then lookups registered with {@link registerWriterLookup}.
 */
export function withWriterLookup<T>(lookup: WriterLookup, fn: () => T): T {
  return scoped.run(lookup, fn);
}

/** Adds a lookup for every later check, until the returned function removes it. */
export function registerWriterLookup(lookup: WriterLookup): () => void {
  global.push(lookup);
  return () => {
    const i = global.indexOf(lookup);
    if (i >= 0) global.splice(i, 1);
  };
}

/** The lookup in effect here, combining the scoped one and the registered ones; undefined when none. */
export function currentWriterLookup(): WriterLookup | undefined {
  const inner = scoped.getStore();
  if (!inner && global.length === 0) return undefined;
  const chain = [...(inner ? [inner] : []), ...[...global].reverse()];
  return (key, inconsistency) => {
    for (const lookup of chain) {
      const who = lookup(key, inconsistency);
      if (who) return who;
    }
    return undefined;
  };
}
