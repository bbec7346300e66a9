import { AsyncLocalStorage } from 'node:async_hooks';
import type { RedactRule } from '../keyspace/redact';
import type { Inconsistency } from './compare';

/**
 * "Who wrote this key": the race helpers know it (their timeline records every step); the failure message
 * shows it. A lookup answers with one line (`writer  redis SET user:1 (step 5)`), or undefined.
 */
export type WriterLookup = (key: string, inconsistency: Inconsistency) => string | undefined;

const scoped = new AsyncLocalStorage<WriterLookup>();
const global: WriterLookup[] = [];

/**
 * The race helpers' registry of the active race (src/race/report/keyWriters.ts), read from its registered
 * `globalThis` slot so that this module does not import the race helpers (imports go race -> adapters only).
 * Every key reported as inconsistent is reported to it (reportInconsistent): the race report lists those keys.
 */
const RACE_SLOT = Symbol.for('jest-cache-consistency.race.keyWriters');
interface RaceKeyWriters {
  lastWriter(key: string | Buffer): { label: string; step: number } | undefined;
  /** Lists `key` among the race report's inconsistent keys. */
  reportInconsistent?(key: string | Buffer): void;
  /** The race's own `redact` rules: its report prints this check's failure, so the failure honours them. */
  readonly redact?: readonly RedactRule[];
}

/** The active race's `redact` rules (none when no race is active). */
export function activeRaceRedactRules(): readonly RedactRule[] {
  const registry = (globalThis as { [RACE_SLOT]?: RaceKeyWriters })[RACE_SLOT];
  return Array.isArray(registry?.redact) ? registry.redact : [];
}

function raceLookup(): WriterLookup | undefined {
  const registry = (globalThis as { [RACE_SLOT]?: RaceKeyWriters })[RACE_SLOT];
  if (!registry || typeof registry.lastWriter !== 'function') return undefined;
  return (_key, inconsistency) => {
    registry.reportInconsistent?.(inconsistency.key);
    const writer = registry.lastWriter(inconsistency.key);
    return writer ? `${writer.label} (step ${writer.step})` : undefined;
  };
}

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

/**
 * The lookup in effect here, or undefined when none: the scoped one, then the active race's, then the
 * registered ones (latest first). The active race is asked about every key, even when another lookup answers.
 */
export function currentWriterLookup(): WriterLookup | undefined {
  const inner = scoped.getStore();
  const race = raceLookup();
  if (!inner && !race && global.length === 0) return undefined;
  const registered = [...global].reverse();
  return (key, inconsistency) => {
    const fromRace = race?.(key, inconsistency);
    const fromScope = inner?.(key, inconsistency);
    if (fromScope) return fromScope;
    if (fromRace) return fromRace;
    for (const lookup of registered) {
      const who = lookup(key, inconsistency);
      if (who) return who;
    }
    return undefined;
  };
}
