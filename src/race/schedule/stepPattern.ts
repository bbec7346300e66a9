/**
 * Which steps a gate or a fault applies to.
 *
 * - `{ redis: 'DEL' }`: a Redis command (case-insensitive; a pipeline or MULTI matches when it contains it);
 *   `{ redis: 'SET', key: 'user:*' }` also needs a key matching the glob (or RegExp); a glob matches as the server's
 *   SCAN MATCH does, on the key's bytes (`?` is one byte), the same as captureKeyspace's `match` (keyspace/glob.ts).
 * - `{ db: 'UPDATE' }`: an SQL statement; one word matches the statement's first keyword, more words match
 *   anywhere in the statement (case-insensitive, whitespace collapsed); a RegExp is tested on the SQL.
 * - `{ timer: true }`: a timer step (an actor's `setTimeout` under `everyInterleaving`).
 * - a function `(step) => boolean`.
 * Shorthand for gates: `pauseBefore('redis', 'DEL')`, `pauseBefore('redis', 'SET', 'user:*')`,
 * `pauseBefore('db', /UPDATE users/)`, `pauseBefore('db')` (any statement).
 */
import { InvalidRaceScenarioError } from '../../errors';
import { matchesGlob } from '../../keyspace/glob';
import { findUnknownKey, optionKeys } from '../../optionKeys';
import type { StepInfo } from '../step';

export type StepPattern =
  | {
      readonly redis?: string | RegExp | true;
      readonly key?: string | RegExp;
      readonly db?: string | RegExp | true;
      readonly timer?: true;
    }
  | ((step: StepInfo) => boolean);

export type StepPatternArgs =
  | [pattern: StepPattern]
  | [kind: 'redis', command?: string | RegExp, key?: string | RegExp]
  | [kind: 'db', sql?: string | RegExp]
  | [kind: 'timer'];

/** The properties of an object pattern. */
const PATTERN_KEYS = optionKeys<Exclude<StepPattern, (step: StepInfo) => boolean>>({ redis: true, key: true, db: true, timer: true });

/** `option` names the argument in errors (`faults[0].at`); a pattern object with an unknown key is refused. */
export function patternFromArgs(args: readonly unknown[], option = 'step pattern'): StepPattern {
  const [first, second, third] = args;
  if (first === 'redis') return { redis: (second as string | RegExp | undefined) ?? true, ...(third !== undefined ? { key: third as string | RegExp } : {}) };
  if (first === 'db') return { db: (second as string | RegExp | undefined) ?? true };
  if (first === 'timer') return { timer: true };
  if (typeof first === 'function') return first as StepPattern;
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const unknown = findUnknownKey(first, PATTERN_KEYS);
    if (unknown) throw new InvalidRaceScenarioError(`${option}.${unknown.key}`, unknown.problem);
    return first as StepPattern;
  }
  throw new TypeError(
    `a step pattern is ('redis', command?, key?), ('db', sql?), ('timer'), { redis, key, db, timer } or (step) => boolean; received ${describeValue(first)}`,
  );
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return String(v);
  return typeof v;
}

function textMatches(pattern: string | RegExp, text: string, exactWordInsensitive: boolean): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(text);
  }
  if (exactWordInsensitive) return pattern.toUpperCase() === text.toUpperCase();
  return text.toUpperCase().includes(pattern.toUpperCase());
}

export function stepMatches(pattern: StepPattern, step: StepInfo): boolean {
  if (typeof pattern === 'function') return pattern(step);
  if (pattern.timer) return step.kind === 'timer';
  if (pattern.db !== undefined) {
    if (step.kind !== 'db') return false;
    if (pattern.db === true) return true;
    const sql = (step.sql ?? '').replace(/\s+/g, ' ').trim();
    if (typeof pattern.db === 'string' && /^\w+$/.test(pattern.db.trim())) return step.command === pattern.db.trim().toUpperCase();
    return textMatches(pattern.db, sql, false);
  }
  if (pattern.redis !== undefined || pattern.key !== undefined) {
    if (step.kind !== 'redis') return false;
    if (pattern.redis !== undefined && pattern.redis !== true) {
      const p = pattern.redis;
      const names = [step.command, ...(step.batch ?? []).map(([name]) => name)];
      if (!names.some((n) => textMatches(p, n, true))) return false;
    }
    if (pattern.key !== undefined) {
      // A glob means what it means to the server (SCAN MATCH), byte by byte, as in captureKeyspace's `match`.
      const key = pattern.key;
      const matches = typeof key === 'string' ? (k: string) => matchesGlob(k, key) : (k: string) => ((key.lastIndex = 0), key.test(k));
      if (!step.keys.some(matches)) return false;
    }
    return true;
  }
  return false;
}

export function describePattern(pattern: StepPattern): string {
  if (typeof pattern === 'function') return pattern.name ? `a step matching ${pattern.name}()` : 'a step matching the predicate';
  if (pattern.timer) return 'a timer';
  if (pattern.db !== undefined) return pattern.db === true ? 'a db statement' : `db ${String(pattern.db)}`;
  const parts = ['redis'];
  if (pattern.redis !== undefined && pattern.redis !== true) parts.push(String(pattern.redis));
  if (pattern.key !== undefined) parts.push(`key ${String(pattern.key)}`);
  return parts.length === 1 ? 'a redis command' : parts.join(' ');
}
