import { sortByKey } from '../../src/keyspace/sortByKey';

const ALPHABET = ['a', 'b', 'user:', ':', '1', '10', 'é', '\uE000', '\uFFFD', '😀', '𝄞', ''];

function randomKey(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 6);
  let key = '';
  for (let i = 0; i < n; i++) key += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  return key;
}

/** A small deterministic generator, so a failure reproduces. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

it('sorts string keys in UTF-8 byte order (astral characters after U+E000-U+FFFF) and drops repeats', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rnd = lcg(seed);
    const keys = Array.from({ length: 3000 }, () => randomKey(rnd));
    const sorted = sortByKey(keys.map((key) => ({ key }))).map((e) => e.key);
    const expected = [...new Set(keys)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(sorted).toEqual(expected);
  }
});

it('binary keys sort by their bytes among string keys', () => {
  const list = [{ key: 'b' }, { key: Buffer.from([0xff]) }, { key: 'a' }, { key: Buffer.from([0x61, 0x80]) }, { key: 'a' }];
  expect(sortByKey(list).map((e) => (Buffer.isBuffer(e.key) ? e.key.toString('hex') : e.key))).toEqual(['a', '6180', 'b', 'ff']);
});
