import { toQueryable, type DatabaseHandle } from '../db/toQueryable';
import { CacheContractError, NotARedisClientError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { Redaction, redactList, type RedactRule } from '../keyspace/redact';
import { presetRedactRules } from '../preset/state';
import { readKeyspace } from '../keyspace/capture';
import type { KeyEntry } from '../keyspace/types';
import type { RedisAdapter } from '../redis/adapter';
import { toRedisAdapter } from '../redis/toRedisAdapter';
import { compareEntries, type ConsistencyReport, type ContractSet } from './compare';
import { compiledContract, type AnyCacheContract } from './contract';
import { conventionContracts } from './convention';
import { consistencyDefaults, contractsArgument, defaultContracts } from './registry';
import { compareText, printableText } from './values';
import { activeRaceRedactRules, currentWriterLookup } from './writers';

/** Options of `toBeConsistentWith` and `checkConsistency`. */
export interface ConsistencyOptions {
  /** The contracts to check with, instead of the registered ones (or the default convention). */
  contracts?: readonly AnyCacheContract[];
  /** Report keys no contract covers as inconsistent. Default: registered/configured, else false. */
  strict?: boolean;
  /** Only keys matching this glob (Redis SCAN MATCH syntax) are read and checked. Default: every key. */
  match?: string;
  /** Inconsistent keys shown in full in a failure message; the rest are counted. Default 10. */
  maxReported?: number;
  /**
   * Secrets the failure message and diff never show (both sides): the rules of captureKeyspace's `redact`,
   * added to the preset's (docs/configuration.md#redact). The comparison itself sees the real values.
   */
  redact?: RedactRule | readonly RedactRule[];
}

export interface ResolvedConsistencyOptions {
  contracts: AnyCacheContract[] | undefined;
  strict: boolean;
  match: string | undefined;
  maxReported: number;
  /** The preset's rules, the active race's, then the call's own. */
  redaction: Redaction;
}

const OPTION_KEYS = optionKeys<ConsistencyOptions>({ contracts: true, strict: true, match: true, maxReported: true, redact: true });

/**
 * Validates options (and the `[contracts]` shorthand); returns the problem as text for a matcher error.
 * Defaults come from registerCacheContracts() and the `consistency` config option.
 */
export function resolveOptions(contractsOrOptions: unknown, maybeOptions: unknown): ResolvedConsistencyOptions | string {
  let options: Record<string, unknown> = {};
  if (Array.isArray(contractsOrOptions) || (contractsOrOptions && (contractsOrOptions as Record<symbol, unknown>)[Symbol.for('jest-cache-consistency.contract')])) {
    options = { contracts: Array.isArray(contractsOrOptions) ? contractsOrOptions : [contractsOrOptions] };
    if (maybeOptions !== undefined) {
      if (typeof maybeOptions !== 'object' || maybeOptions === null || Array.isArray(maybeOptions)) return 'options must be an object';
      if ('contracts' in maybeOptions) return 'contracts are given twice: as the second argument and in options';
      options = { ...maybeOptions, ...options };
    }
  } else if (contractsOrOptions !== undefined) {
    if (typeof contractsOrOptions !== 'object' || contractsOrOptions === null) return 'the second argument must be an array of contracts or an options object';
    if (maybeOptions !== undefined) return 'pass options once: (db, contracts, options) or (db, options)';
    options = contractsOrOptions as Record<string, unknown>;
  }
  const unknownKey = findUnknownKey(options, OPTION_KEYS);
  if (unknownKey) return `options.${unknownKey.key}: ${unknownKey.problem}`;
  const defaults = consistencyDefaults();
  let contracts: AnyCacheContract[] | undefined;
  if (options.contracts !== undefined) {
    if (!Array.isArray(options.contracts)) return 'contracts must be an array of defineCache() contracts';
    try {
      contracts = contractsArgument(options.contracts, 'contracts');
    } catch (err) {
      return `contracts${(err as CacheContractError).option ?? ''} is not a contract made by defineCache()`;
    }
  }
  if (options.strict !== undefined && typeof options.strict !== 'boolean') return 'strict must be true or false';
  if (options.match !== undefined && (typeof options.match !== 'string' || options.match === '')) return 'match must be a non-empty key glob';
  if (options.maxReported !== undefined && (!Number.isInteger(options.maxReported) || (options.maxReported as number) < 1))
    return 'maxReported must be a positive integer';
  const own = redactList(options.redact as RedactRule | RedactRule[] | undefined);
  let problem: string | undefined;
  try {
    // The call's own rules, checked alone so that a problem names their own index (redact[0]).
    new Redaction(own, (option, why) => new Error((problem = `${option}: ${why}`)));
  } catch {
    return problem ?? 'redact: not a list of redact rules';
  }
  const redaction = new Redaction([...presetRedactRules(), ...activeRaceRedactRules(), ...own]);
  return {
    redaction,
    contracts,
    strict: (options.strict as boolean | undefined) ?? defaults.strict,
    match: options.match as string | undefined,
    maxReported: (options.maxReported as number | undefined) ?? defaults.maxReported,
  };
}

/** The contracts in effect: passed, else configured/registered, else the default convention. */
export async function contractSet(db: DatabaseHandle, passed: readonly AnyCacheContract[] | undefined): Promise<ContractSet> {
  const list = passed ?? (await defaultContracts());
  if (list.length > 0 || passed) return { contracts: list.map(compiledContract), convention: false };
  return { contracts: await conventionContracts(db), convention: true };
}

/** Compares already captured entries with the database (no Redis access). */
export async function checkEntries(entries: readonly KeyEntry[], db: DatabaseHandle, options: ResolvedConsistencyOptions): Promise<ConsistencyReport> {
  const set = await contractSet(db, options.contracts);
  return compareEntries(entries, db, set, { strict: options.strict, writtenBy: currentWriterLookup() });
}

/** Reads the keyspace (SCAN, never KEYS) and compares it with the database. */
export async function checkAdapters(redis: RedisAdapter, db: DatabaseHandle, options: ResolvedConsistencyOptions): Promise<ConsistencyReport> {
  await redis.ready();
  // The real values: what is printed is redacted afterwards (formatFailure), the comparison must see them.
  const snapshot = await readKeyspace(redis, { match: options.match, ttl: 'exact' }, false);
  const report = await checkEntries(snapshot.entries, db, options);
  // Keys of module types (ReJSON, ...) hold no rows this library can read: unmapped.
  if (snapshot.otherTypes.length) {
    report.keys += snapshot.otherTypes.length;
    report.unmapped += snapshot.otherTypes.length;
    if (options.strict) {
      for (const other of snapshot.otherTypes) {
        const keyText = printableText(other.key);
        report.inconsistencies.push({ key: other.key, keyText, type: other.type, ttlMs: other.ttlMs, kind: 'unmapped', cached: `(a ${other.type} key: not read)`, expected: undefined });
      }
      report.inconsistencies.sort((a, b) => compareText(a.key, b.key));
    }
  }
  return report;
}

/**
 * The comparison behind `toBeConsistentWith`, as a function: every cached key a contract covers must hold
 * what a fresh read-through from the database would store now. Returns the report instead of failing.
 *
 * @example
 * const report = await checkConsistency(testRedis(), testDb(), { contracts: [userById] });
 * report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`); // ['user:1: stale']
 */
export async function checkConsistency(redis: unknown, db: unknown, options: ConsistencyOptions = {}): Promise<ConsistencyReport> {
  const adapter = toRedisAdapter(redis);
  if (!adapter) throw new NotARedisClientError('checkConsistency', String((redis as { constructor?: { name?: string } })?.constructor?.name ?? typeof redis));
  const handle = toQueryable(db, 'checkConsistency: the database');
  const resolved = resolveOptions(options, undefined);
  if (typeof resolved === 'string') throw new CacheContractError('checkConsistency()', 'options', resolved);
  return checkAdapters(adapter, handle, resolved);
}
