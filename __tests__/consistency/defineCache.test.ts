/** defineCache validates a contract when it is defined, with a message naming the option and the fix. */
import {
  bentocacheCodec,
  CacheCodecError,
  CacheContractError,
  defineCache,
  isCacheContract,
  keyvCodec,
  type CacheContractOptions,
} from '../../src';

function problem(options: unknown): string {
  try {
    defineCache(options as CacheContractOptions<string>);
  } catch (err) {
    expect(err).toBeInstanceOf(CacheContractError);
    expect((err as CacheContractError).code).toBe('CACHE_CONTRACT_INVALID');
    return (err as Error).message;
  }
  throw new Error('defineCache accepted it');
}

it.each([
  ['no options', undefined],
  ['no key', { table: 'users' }],
  ['an unclosed brace', { key: 'user:{id', table: 'users' }],
  ['a stray closing brace', { key: 'user:id}', table: 'users' }],
  ['a param that is not an identifier', { key: 'user:{user id}', table: 'users' }],
  ['the same param twice', { key: '{id}:{id}', table: 'users' }],
  ['two params with nothing between', { key: 'user:{a}{b}', table: 'users' }],
  ['no source of truth', { key: 'user:{id}' }],
  ['two sources of truth', { key: 'user:{id}', table: 'users', load: () => [] }],
  ['an unknown option (a typo)', { key: 'user:{id}', table: 'users', feilds: ['id'] }],
  ['an unknown encoding', { key: 'user:{id}', table: 'users', as: 'xml' }],
  ['a table that is not an identifier', { key: 'user:{id}', table: 'users; DROP TABLE users' }],
  ['where naming a param the key lacks', { key: 'user:{id}', table: 'users', where: { id: 'userId' } }],
  ['a key param that where leaves out', { key: 'post:{uid}:{pid}', table: 'posts', where: { id: 'pid' } }],
  ['an orderBy that is not a column list', { key: 'x:{id}', table: 'users', orderBy: 'id; DELETE FROM users' }],
  ['where without table', { key: 'user:{id}', load: () => [], where: { id: 'id' } }],
  ['many on a hash', { key: 'user:{id}', table: 'users', as: 'hash', many: true }],
  ['fields on a set', { key: 'ids', load: () => [], as: 'set', fields: ['id'] }],
  ['column on json', { key: 'user:{id}', table: 'users', column: 'name' }],
  ['a zset without score', { key: 'ranking', load: () => [], as: 'zset' }],
  ['a table string without column', { key: 'name:{id}', table: 'users', as: 'string' }],
  ['score on a list', { key: 'ids', load: () => [], as: 'list', score: 'n' }],
  ['a notFound that is a number', { key: 'user:{id}', table: 'users', notFound: 0 }],
  ['notFound on many rows', { key: 'posts:{user_id}', table: 'posts', many: true, notFound: '[]' }],
  ['an ignored key with a load', { key: 'lock:{name}', ignore: true, load: () => [] }],
  ['an ignored key with other options', { key: 'lock:{name}', ignore: true, as: 'hash' }],
  ['a decode that is not a function', { key: 'user:{id}', table: 'users', decode: 'json' }],
  ['a codec not made by keyvCodec() or bentocacheCodec()', { key: 'user:{id}', table: 'users', codec: { keyPrefix: 'keyv::keyv:' } }],
  ['a codec with a hash encoding', { key: 'user:{id}', table: 'users', codec: keyvCodec(), as: 'hash' }],
])('rejects %s', (_name, options) => {
  expect(problem(options)).toMatchSnapshot();
});

it('names the contract by its name option when given', () => {
  expect(problem({ key: 'user:{id}', name: 'userById', table: 'users', as: 'csv' })).toMatch(/^\[CACHE_CONTRACT_INVALID\] Invalid cache contract userById: as: /);
});

it('returns a frozen, branded contract', () => {
  const c = defineCache({ key: 'user:{id}', table: 'users' });
  expect(isCacheContract(c)).toBe(true);
  expect(Object.isFrozen(c)).toBe(true);
  expect(c.name).toBe('user:{id}');
  expect(JSON.stringify({ c })).toBe('{"c":"[CacheContract user:{id}]"}');
});

describe('a codec', () => {
  it('puts the library prefix before the key pattern: match and keyFor work on the stored key', () => {
    const c = defineCache({ key: 'user:{id}', table: 'users', codec: keyvCodec({ namespace: 'users' }) });
    expect(c.keyFor({ id: 7 })).toBe('users::users:user:7');
    expect(c.match('users::users:user:7')).toEqual({ id: '7' });
    expect(c.match('user:7')).toBeUndefined();
    expect(defineCache({ key: '{id}', table: 'users', codec: bentocacheCodec({ prefix: 'app{1}', namespace: 'users' }) }).keyFor({ id: 1 })).toBe('app{1}:users:1');
    expect(defineCache({ key: '{id}', table: 'users', codec: bentocacheCodec({ prefix: '' }) }).keyFor({ id: 1 })).toBe('1');
    expect(defineCache({ key: 'k:{id}', table: 'users', codec: keyvCodec({ keyPrefixSeparator: '|' }) }).keyFor({ id: 1 })).toBe('keyv|keyv:k:1');
  });

  it('applies to an ignored key (only key, name and codec)', () => {
    expect(defineCache({ key: 'lock:{name}', ignore: true, codec: keyvCodec() }).match('keyv::keyv:lock:a')).toEqual({ name: 'a' });
  });

  it.each<[string, () => unknown, string]>([
    ['not an object', () => keyvCodec('users' as never), 'Invalid cache codec keyvCodec(): options: must be an object'],
    ['an empty namespace', () => keyvCodec({ namespace: '' }), 'Invalid cache codec keyvCodec(): namespace: must be a non-empty string'],
    ['a useKeyPrefix that is not a boolean', () => keyvCodec({ useKeyPrefix: 'no' as never }), 'keyvCodec(): useKeyPrefix: must be true or false'],
    ['a prefix that is not a string', () => bentocacheCodec({ prefix: 1 as never }), 'Invalid cache codec bentocacheCodec(): prefix: must be a string'],
  ])('refuses %s with CACHE_CODEC_INVALID', (_what, call, message) => {
    let error: unknown;
    try {
      call();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CacheCodecError);
    expect((error as CacheCodecError).code).toBe('CACHE_CODEC_INVALID');
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toContain('docs/contracts.md#cache-libraries');
  });
});
