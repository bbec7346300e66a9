/**
 * Every options object of the public API refuses a key it does not know, with its coded
 * error (a matcher error for the matchers) and a "did you mean". A misspelt option is never a silent no-op.
 */
import {
  bentocacheCodec,
  captureKeyspace,
  checkConsistency,
  createKeyspaceSerializer,
  defineCache,
  everyInterleaving,
  keyvCodec,
  printKeyspace,
  race,
  registerCacheContracts,
  replay,
  startRedisServer,
  testDb,
  testRedis,
  type CacheConsistencyError,
} from '../src';
import { checkEnvironmentOptionKeys, validateOptions } from '../src/preset/options';
import { closestWord, findUnknownKey, optionKeys } from '../src/optionKeys';

// eslint-disable-next-line no-control-regex
const stripColour = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** The error `call` throws or rejects with. */
async function errorOf(call: () => unknown): Promise<CacheConsistencyError> {
  let outcome: unknown;
  try {
    await call();
    outcome = 'no error';
  } catch (error) {
    outcome = error;
  }
  if (!(outcome instanceof Error)) throw new Error(`expected an error, got ${String(outcome)}`);
  return outcome as CacheConsistencyError;
}

const actors = { a: async () => {} };

describe('the shared "unknown key, did you mean" check', () => {
  it('suggests the closest known key, case-insensitively, within two edits', () => {
    expect(closestWord('chek', ['actors', 'setup', 'check'])).toBe('check');
    expect(closestWord('stallTimeoutMS', ['stallTimeoutMs', 'shrinkBudget'])).toBe('stallTimeoutMs');
    expect(closestWord('colour', ['actors', 'check'])).toBeUndefined();
    expect(closestWord('nht', ['actor', 'at', 'nth'])).toBe('nth');
    expect(findUnknownKey({ check: 1 }, ['check'])).toBeUndefined();
    expect(findUnknownKey({ chek: 1 }, ['actors', 'check'])).toEqual({
      key: 'chek',
      suggestion: 'check',
      problem: 'unknown option. Did you mean "check"? Known options: actors, check.',
    });
  });

  it('derives a key list from the options type', () => {
    expect(optionKeys<{ a?: number; b: string }>({ a: true, b: true })).toEqual(['a', 'b']);
  });
});

describe.each<[string, () => unknown, string, string, string]>([
  // [what, call, code, option, suggestion]
  ['everyInterleaving: check', () => everyInterleaving({ actors, chek: async () => {} } as never), 'INVALID_RACE_SCENARIO', 'chek', 'check'],
  ['everyInterleaving: stallTimeoutMs', () => everyInterleaving({ actors, stallTimeoutMS: 10 } as never), 'INVALID_RACE_SCENARIO', 'stallTimeoutMS', 'stallTimeoutMs'],
  ['everyInterleaving: strategy', () => everyInterleaving({ actors, strategy: { kind: 'random', run: 5 } } as never), 'INVALID_RACE_SCENARIO', 'strategy.run', 'runs'],
  ['everyInterleaving: fault', () => everyInterleaving({ actors, faults: [{ actor: 'a', at: { redis: 'DEL' }, nht: 2 }] } as never), 'INVALID_RACE_SCENARIO', 'faults[0].nht', 'nth'],
  ['everyInterleaving: fault step pattern', () => everyInterleaving({ actors, faults: [{ actor: 'a', at: { rdis: 'DEL' } }] } as never), 'INVALID_RACE_SCENARIO', 'faults[0].at.rdis', 'redis'],
  ['replay', () => replay('r1:a', { actors, shrinkBudjet: 1 } as never), 'INVALID_RACE_SCENARIO', 'shrinkBudjet', 'shrinkBudget'],
  ['race', () => race({ rediss: testRedis() } as never), 'INVALID_RACE_SCENARIO', 'rediss', 'redis'],
  ['defineCache', () => defineCache({ key: 'user:{id}', table: 'users', feilds: ['id'] } as never), 'CACHE_CONTRACT_INVALID', 'feilds', 'fields'],
  ['captureKeyspace', () => captureKeyspace(testRedis(), { mach: 'user:*' } as never), 'INVALID_KEYSPACE_OPTION', 'mach', 'match'],
  ['captureKeyspace: decode', () => captureKeyspace(testRedis(), { decode: { jsn: false } } as never), 'INVALID_KEYSPACE_OPTION', 'decode.jsn', 'json'],
  ['captureKeyspace: a redact rule', () => captureKeyspace(testRedis(), { redact: [{ key: 'u:*', feild: 'token' }] } as never), 'INVALID_KEYSPACE_OPTION', 'redact[0].feild', 'field'],
  ['checkConsistency', () => checkConsistency(testRedis(), testDb(), { stirct: true } as never), 'CACHE_CONTRACT_INVALID', 'stirct', 'strict'],
  ['the preset options', () => validateOptions({ database: { shema: [] } }, '/'), 'INVALID_OPTIONS', 'database.shema', 'schema'],
  ['registerCacheContracts', () => registerCacheContracts([], { maxReportd: 3 } as never), 'CACHE_CONTRACT_INVALID', 'maxReportd', 'maxReported'],
  ['startRedisServer', () => startRedisServer({ binary: '/usr/bin/redis-server', startTimeoutMS: 100 } as never), 'REDIS_SERVER_START_FAILED', 'startTimeoutMS', 'startTimeoutMs'],
  ['createKeyspaceSerializer', () => createKeyspaceSerializer({ maxTextLenght: 10 } as never), 'INVALID_KEYSPACE_OPTION', 'maxTextLenght', 'maxTextLength'],
  ['keyvCodec', () => keyvCodec({ namepsace: 'users' } as never), 'CACHE_CODEC_INVALID', 'namepsace', 'namespace'],
  ['bentocacheCodec', () => bentocacheCodec({ prefx: 'app' } as never), 'CACHE_CODEC_INVALID', 'prefx', 'prefix'],
  ['captureKeyspace: cacheEnvelopes', () => captureKeyspace(testRedis(), { cacheEnvelope: 'exact' } as never), 'INVALID_KEYSPACE_OPTION', 'cacheEnvelope', 'cacheEnvelopes'],
  ['printKeyspace: print', async () => printKeyspace(await captureKeyspace(testRedis()), { print: { tll: 'hide' } } as never), 'INVALID_KEYSPACE_OPTION', 'print.tll', 'ttl'],
])('%s refuses a misspelt key', (_what, call, code, option, suggestion) => {
  it(`with ${code} naming ${option} and suggesting ${suggestion}`, async () => {
    const error = await errorOf(call);
    expect(error.code).toBe(code);
    expect(error.message).toContain(`${option}: unknown option. Did you mean "${suggestion}"?`);
  });
});

describe('an options object whose kind decides its keys', () => {
  it('refuses an option of another strategy kind', async () => {
    const error = await errorOf(() => everyInterleaving({ actors, strategy: { kind: 'exhaustive', runs: 5 } } as never));
    expect(error.code).toBe('INVALID_RACE_SCENARIO');
    expect(error.message).toContain('strategy.runs: unknown option. Known options: kind, reduction, preemptionBound, maxSchedules.');
  });
});

describe('race() actors', () => {
  it('refuse a misspelt failAt option and a misspelt gate pattern', async () => {
    const r = race();
    const a = r.actor('a');
    const failAt = await errorOf(() => a.failAt({ redis: 'DEL' }, { wehn: 'after' } as never));
    expect(failAt.code).toBe('INVALID_RACE_SCENARIO');
    expect(failAt.message).toContain('failAt options.wehn: unknown option. Did you mean "when"?');
    const gate = await errorOf(() => a.pauseBefore({ dbb: 'UPDATE' } as never));
    expect(gate.code).toBe('INVALID_RACE_SCENARIO');
    expect(gate.message).toContain('pauseBefore.dbb: unknown option. Did you mean "db"?');
    await r.close();
  });
});

describe('the matchers refuse a misspelt option with a matcher error', () => {
  async function matcherError(call: () => Promise<unknown>): Promise<string> {
    const error = await errorOf(call);
    expect((error as { code?: unknown }).code).toBeUndefined();
    return stripColour(error.message);
  }

  it('toBeConsistentWith', async () => {
    const message = await matcherError(() => expect(testRedis()).toBeConsistentWith(testDb(), { stirct: true } as never));
    expect(message).toContain('Matcher error');
    expect(message).toContain('options.stirct: unknown option. Did you mean "strict"?');
  });

  it('toMatchKeyspaceSnapshot (a capture option, and the hint)', async () => {
    const capture = await matcherError(() => expect(testRedis()).toMatchKeyspaceSnapshot({ mach: 'user:*' } as never));
    expect(capture).toContain('Matcher error');
    expect(capture).toContain('options.mach: unknown option. Did you mean "match"?');
    const hint = await matcherError(() => expect(testRedis()).toMatchKeyspaceSnapshot({ hnt: 'users' } as never));
    expect(hint).toContain('options.hnt: unknown option. Did you mean "hint"?');
  });

  it('toMatchInlineKeyspaceSnapshot', async () => {
    const message = await matcherError(() => expect(testRedis()).toMatchInlineKeyspaceSnapshot({ exclud: 'lock:*' } as never));
    expect(message).toContain('Matcher error');
    expect(message).toContain('exclud: unknown option. Did you mean "exclude"?');
  });
});

describe('testEnvironmentOptions, next to cacheConsistency', () => {
  it.each(['cacheConsistancy', 'CacheConsistency', 'cache-consistency', 'cacheConsistensy'])('refuses %s, a misspelling of cacheConsistency', async (key) => {
    const error = await errorOf(() => checkEnvironmentOptionKeys({ [key]: { redis: {} } }));
    expect(error.code).toBe('INVALID_OPTIONS');
    expect(error.message).toContain(`testEnvironmentOptions.${key}: unknown option. Did you mean "cacheConsistency"?`);
  });

  it("leaves the test environment's own options alone", () => {
    expect(() =>
      checkEnvironmentOptionKeys({ cacheConsistency: {}, url: 'http://localhost/', customExportConditions: ['node'], globalsCleanup: 'on', userAgent: 'x' }),
    ).not.toThrow();
  });
});
