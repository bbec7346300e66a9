/**
 * Contracts registered once: with registerCacheContracts() (in-process here), and with the
 * `consistency` config option (a fixture project run by Jest in a child process, which also shows a
 * forgotten `await` failing its test).
 */
import { join } from 'node:path';
import {
  CacheContractError,
  clearCacheContracts,
  defineCache,
  registerCacheContracts,
  testDb,
  testRedis,
} from '../../src';
import { REPO, spawnJest } from '../helpers/processes';

const redis = testRedis();
const db = testDb();

describe('registerCacheContracts()', () => {
  afterEach(clearCacheContracts);
  beforeEach(() => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`));

  const userById = defineCache({ key: 'user:{id}', table: 'users', fields: ['id', 'name'] });

  it('makes the contracts apply to calls that pass none, instead of the default convention', async () => {
    await redis.set('user:1', '{"id":1,"name":"Old"}');
    await redis.set('users:1', 'garbage that the default convention would report');
    registerCacheContracts([userById]);
    registerCacheContracts(userById); // the same contract twice counts once
    await expect(redis).not.toBeConsistentWith(db);
    await redis.set('user:1', '{"id":1,"name":"Tom"}');
    await expect(redis).toBeConsistentWith(db);
  });

  it('sets defaults (strict, maxReported) that a call can override', async () => {
    registerCacheContracts([userById], { strict: true });
    await redis.set('session:1', 'x');
    await expect(redis).not.toBeConsistentWith(db);
    await expect(redis).toBeConsistentWith(db, { strict: false });
  });

  it('is overridden by contracts passed to a call', async () => {
    registerCacheContracts([userById]);
    await redis.set('user:1', '{"id":1,"name":"Old"}');
    await expect(redis).toBeConsistentWith(db, [defineCache({ key: 'user:{id}', ignore: true })]);
  });

  it('rejects what is not a contract', () => {
    expect(() => registerCacheContracts([{ key: 'user:{id}' } as never])).toThrow(CacheContractError);
    expect(() => registerCacheContracts([], { maxReported: 0 })).toThrow('maxReported: must be a positive integer');
  });
});

describe('the consistency config option, in a real Jest run', () => {
  jest.setTimeout(120_000);

  it('loads the contracts module and defaults, and fails a test that forgot await', async () => {
    const fixture = join(REPO, '__tests__', 'fixtures', 'consistency');
    const { done } = spawnJest(fixture, ['--json', '-c', join(fixture, 'jest.config.js')]);
    const { stdout, stderr } = await done;
    const results = JSON.parse(stdout) as {
      testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
    };
    const outcomes = results.testResults
      .flatMap((file) => file.assertionResults.map((t) => [t.title, t.status, t.failureMessages.join('\n')] as const))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    expect(outcomes.map(([title, status]) => [title, status])).toEqual([
      ['awaits', 'passed'],
      ['configured contracts apply to a call that passes none', 'passed'],
      ['forgets await on a check that would pass', 'failed'],
      ['registerCacheContracts adds to the configured contracts', 'passed'],
      ['strict from the config: a key no contract covers fails', 'failed'],
    ]);
    const message = (title: string) => outcomes.find(([t]) => t === title)![2];
    expect(message('forgets await on a check that would pass')).toMatch(
      /^MatcherNotAwaitedError: \[MATCHER_NOT_AWAITED\] toBeConsistentWith was called once without await[^]*unawaited\.fixture\.ts:9:/,
    );
    expect(message('strict from the config: a key no contract covers fails')).toContain(
      '… and 1 more inconsistent key: session:2 (maxReported: 1)',
    );
    expect(stderr).not.toContain('A worker process has failed to exit gracefully');
  });
});

describe('validation of the consistency config option', () => {
  const { validateOptions } = jest.requireActual<typeof import('../../src/preset/options')>('../../src/preset/options');
  const root = join(REPO, '__tests__', 'fixtures', 'consistency');
  const problem = (consistency: unknown) => {
    try {
      validateOptions({ consistency }, root);
    } catch (err) {
      return (err as Error).message.replaceAll(root, '<root>');
    }
    throw new Error('accepted');
  };

  it('resolves module paths against rootDir and fills defaults', () => {
    expect(validateOptions({ consistency: { contracts: './cacheContracts' } }, root).consistency).toEqual({
      contracts: [join(root, 'cacheContracts')],
      strict: false,
      maxReported: 10,
    });
    expect(validateOptions({}, root).consistency).toBeUndefined();
  });

  it.each([
    ['not an object', true],
    ['an unknown key', { stric: true }],
    ['a missing module', { contracts: ['./nope.ts'] }],
    ['strict that is not a boolean', { strict: 'yes' }],
    ['maxReported that is not a positive integer', { maxReported: 1.5 }],
  ])('rejects %s', (_name, consistency) => {
    expect(problem(consistency)).toMatchSnapshot();
  });
});
