import { CacheContractError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { readState } from '../preset/state';
import { loadUserModule } from '../runtime/userModule';
import { isCacheContract, type AnyCacheContract } from './contract';

/**
 * Contracts registered once for every test of a test file: by `registerCacheContracts()` in a setup file
 * (setupFilesAfterEnv), or by the `consistency.contracts` option naming modules that export them.
 * Module state here is per test file: Jest gives every test file its own module registry.
 */

export interface ConsistencyDefaults {
  /** Report keys no contract covers. Default false. */
  strict?: boolean;
  /** Inconsistent keys shown in full in a failure message. Default 10. */
  maxReported?: number;
}

let registered: AnyCacheContract[] = [];
let registeredDefaults: ConsistencyDefaults = {};
const DEFAULTS_KEYS = optionKeys<ConsistencyDefaults>({ strict: true, maxReported: true });
let fromConfig: Promise<AnyCacheContract[]> | undefined;

function checkContracts(list: unknown, where: string): AnyCacheContract[] {
  const items = Array.isArray(list) ? list : [list];
  items.forEach((c, i) => {
    if (!isCacheContract(c))
      throw new CacheContractError(where, Array.isArray(list) ? `[${i}]` : 'contract', 'is not a contract made by defineCache()');
  });
  return items as AnyCacheContract[];
}

/**
 * Registers contracts (and defaults) that every `toBeConsistentWith` call of this test file uses when it
 * passes no contracts of its own. Call it from a setup file. Calls add up; the same contract twice counts once.
 *
 * @example
 * // test/setupCache.ts (in setupFilesAfterEnv, after the preset's)
 * import { registerCacheContracts } from 'jest-cache-consistency';
 * import { userById, activeIds } from '../src/cacheContracts';
 * registerCacheContracts([userById, activeIds], { strict: true });
 */
export function registerCacheContracts(contracts: AnyCacheContract | readonly AnyCacheContract[], defaults: ConsistencyDefaults = {}): void {
  const unknown = typeof defaults === 'object' && defaults !== null ? findUnknownKey(defaults, DEFAULTS_KEYS) : undefined;
  if (unknown) throw new CacheContractError('registerCacheContracts()', unknown.key, unknown.problem);
  for (const c of checkContracts(contracts, 'registerCacheContracts()')) if (!registered.includes(c)) registered.push(c);
  if (defaults.strict !== undefined) {
    if (typeof defaults.strict !== 'boolean') throw new CacheContractError('registerCacheContracts()', 'strict', 'must be true or false');
    registeredDefaults = { ...registeredDefaults, strict: defaults.strict };
  }
  if (defaults.maxReported !== undefined) {
    if (!Number.isInteger(defaults.maxReported) || defaults.maxReported < 1)
      throw new CacheContractError('registerCacheContracts()', 'maxReported', 'must be a positive integer');
    registeredDefaults = { ...registeredDefaults, maxReported: defaults.maxReported };
  }
}

/** Forgets the contracts and defaults registered with `registerCacheContracts` (the config's stay). */
export function clearCacheContracts(): void {
  registered = [];
  registeredDefaults = {};
}

/** The configured contracts modules' contracts, loaded once per test file (ES modules too: loadUserModule). */
function loadConfigured(): Promise<AnyCacheContract[]> {
  return (fromConfig ??= loadContractModules());
}

async function loadContractModules(): Promise<AnyCacheContract[]> {
  const files = readState()?.options.consistency?.contracts ?? [];
  const out: AnyCacheContract[] = [];
  for (const file of files) {
    const mod = await loadUserModule(file, 'consistency.contracts');
    const found: AnyCacheContract[] = [];
    const take = (value: unknown) => {
      if (isCacheContract(value)) found.push(value);
      else if (Array.isArray(value) && value.length > 0 && value.every(isCacheContract)) found.push(...value);
    };
    if (isCacheContract(mod) || Array.isArray(mod)) take(mod);
    else if (mod && typeof mod === 'object') {
      const m = mod as Record<string, unknown>;
      take(m.default);
      for (const [name, value] of Object.entries(m)) if (name !== 'default') take(value);
    }
    if (found.length === 0)
      throw new CacheContractError(file, 'consistency.contracts', 'the module exports no contract: export defineCache() results (a default export array, or named exports)');
    for (const c of found) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** The contracts in effect when a call passes none: the configured modules' first, then registered ones. */
export async function defaultContracts(): Promise<AnyCacheContract[]> {
  const out = [...(await loadConfigured())];
  for (const c of registered) if (!out.includes(c)) out.push(c);
  return out;
}

/** Defaults in effect: registerCacheContracts() over the config's `consistency` option. */
export function consistencyDefaults(): Required<ConsistencyDefaults> {
  const config = readState()?.options.consistency;
  return {
    strict: registeredDefaults.strict ?? config?.strict ?? false,
    maxReported: registeredDefaults.maxReported ?? config?.maxReported ?? 10,
  };
}

/** Validates a list of contracts passed to a call. */
export function contractsArgument(list: unknown, where: string): AnyCacheContract[] {
  return checkContracts(list, where);
}
