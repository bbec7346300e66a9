/** defineCache validates a contract when it is defined, with a message naming the option and the fix. */
import { CacheContractError, defineCache, isCacheContract, type CacheContractOptions } from '../../src';

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
