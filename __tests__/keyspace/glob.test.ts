/** Our glob matcher (used for several `match` globs and for `exclude`) agrees with the server's SCAN MATCH. */
import { testRedis } from '../../src';
import { matchesGlob } from '../../src/keyspace/glob';

const KEYS: Array<string | Buffer> = [
  'user:1', 'user:10', 'user:', 'users:1', 'post:1', 'a*b', 'a?b', 'a[b', 'a]b', 'a\\b', 'abc', 'ab', 'b',
  'x-y', 'x.y', 'ü:1', '😀', 'a\nb', Buffer.from([0x61, 0xff]), Buffer.from([0xff]),
];
const PATTERNS = [
  '*', 'user:*', 'user:?', 'user:??', '*:1', 'a*', '?', '??', 'a[bc]c', 'a[^b]*', '[a-c]*', '[c-a]b', 'a\\*b',
  'a\\?b', 'a\\[b', 'a[]]b', 'a\\\\b', 'x[.-]y', 'x?y', '?:1', 'a?', '*b', '[abc', 'a[\\]]b', '\\u*', '',
];

it('matches exactly the keys SCAN MATCH returns, for every pattern', async () => {
  const r = testRedis();
  for (const k of KEYS) await r.set(k, '1');
  for (const pattern of PATTERNS) {
    const server: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = String(next);
      server.push(...keys.map((k) => k.toString('hex')));
    } while (cursor !== '0');
    const ours = KEYS.filter((k) => matchesGlob(k, pattern)).map((k) => Buffer.from(k).toString('hex'));
    expect({ pattern, keys: ours.sort() }).toEqual({ pattern, keys: server.sort() });
  }
});
