import { format } from 'pretty-format';
import { createClient } from 'redis';
import {
  captureKeyspace,
  KEYSPACE_BRAND,
  keyspaceSerializer,
  printKeyspace,
  redisUrl,
  testRedis,
  type KeyEntry,
  type KeyspacePrintOptions,
  type KeyspaceSnapshot,
} from '../../src';
import { DEFAULT_PRINT_OPTIONS } from '../../src/keyspace/serializer';
import * as plugin from '../../src/keyspace/snapshotSerializer';

function print(value: unknown, options: Parameters<typeof format>[1] = {}): string {
  return format(value, { plugins: [keyspaceSerializer], escapeString: false, printBasicPrototype: false, ...options });
}

function snapshotOf(entries: KeyEntry[], print: Partial<KeyspacePrintOptions> = {}): KeyspaceSnapshot {
  return { [KEYSPACE_BRAND]: true, entries, otherTypes: [], print: { ...DEFAULT_PRINT_OPTIONS, ...print } };
}

async function writeEveryType(): Promise<void> {
  const r = testRedis();
  await r.set('user:1', JSON.stringify({ id: 1, name: 'Ada', tags: ['a', 'b'], address: { city: 'London' } }), 'EX', 3600);
  await r.set('counter', '42');
  await r.set('flag', 'true');
  await r.set('text', 'plain "quoted" text\nsecond line');
  await r.set(Buffer.from('bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  await r.hset('cart:1', { total: '30', items: '[{"sku":"A","qty":2}]', note: 'gift' });
  await r.rpush('queue', 'job:2', 'job:1', '{"retry":true}');
  await r.sadd('tags', 'redis', 'cache', 'db');
  await r.zadd('leaders', 10, 'carol', 5, 'bob', 5, 'alice');
  await r.xadd('events', '1-0', 'type', 'signup', 'user', '1');
  await r.xadd('events', '2-0', 'type', 'order', 'body', '{"total":30}');
  await r.set('session:1', 'secret', 'EX', 60);
}

describe('printed format', () => {
  it('every type, as the preset-registered serializer prints it', async () => {
    await writeEveryType();
    const snap = await captureKeyspace(testRedis(), { redact: ['session:*'] });
    expect(snap).toMatchInlineSnapshot(`
Keyspace {
  "bin" (string) b"\\x89PNG\\r\\n\\x1a\\n",
  "cart:1" (hash) {
    "items": [
      {
        "qty": 2,
        "sku": "A",
      },
    ],
    "note": "gift",
    "total": "30",
  },
  "counter" (string) "42",
  "events" (stream) [
    1-0 {
      "type": "signup",
      "user": "1",
    },
    2-0 {
      "type": "order",
      "body": {
        "total": 30,
      },
    },
  ],
  "flag" (string) "true",
  "leaders" (zset) [
    5 "alice",
    5 "bob",
    10 "carol",
  ],
  "queue" (list) [
    "job:2",
    "job:1",
    {
      "retry": true,
    },
  ],
  "session:1" (string, expires in ≤ 1m) [REDACTED],
  "tags" (set) [
    "cache",
    "db",
    "redis",
  ],
  "text" (string) "plain \\"quoted\\" text
second line",
  "user:1" (string, expires in ≤ 1h) {
    "address": {
      "city": "London",
    },
    "id": 1,
    "name": "Ada",
    "tags": [
      "a",
      "b",
    ],
  },
}
`);
  });

  it('node-redis and ioredis captures print identically', async () => {
    await writeEveryType();
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      const a = print(await captureKeyspace(client, { ttl: 'hide' }));
      const b = print(await captureKeyspace(testRedis(), { ttl: 'hide' }));
      expect(a).toBe(b);
      expect(a).toContain('"leaders" (zset) [');
    } finally {
      await client.close();
    }
  });

  it('an empty keyspace', async () => {
    expect(print(await captureKeyspace(testRedis()))).toBe('Keyspace {}');
  });
});

describe('pretty-format plugin contract', () => {
  const entries: KeyEntry[] = [
    { key: 'b', type: 'string', ttlMs: null, value: '{"deep":{"er":[1]}}' },
    { key: 'a', type: 'list', ttlMs: null, value: ['x', 'y', 'z'] },
  ];

  it('test() recognises the brand only, not the shape', () => {
    const branded = snapshotOf(entries);
    const { [KEYSPACE_BRAND]: _brand, ...lookalike } = branded;
    expect(keyspaceSerializer.test(branded)).toBe(true);
    expect(keyspaceSerializer.test(lookalike)).toBe(false);
    expect(keyspaceSerializer.test({ [KEYSPACE_BRAND]: 'yes' })).toBe(false);
    expect(keyspaceSerializer.test(null)).toBe(false);
    expect(print(lookalike)).toMatch(/^\{\n {2}"entries": \[/);
  });

  it('sorts what it prints, even for a hand-built value', () => {
    expect(print(snapshotOf(entries))).toMatchInlineSnapshot(`
"Keyspace {
  "a" (list) [
    "x",
    "y",
    "z",
  ],
  "b" (string) {
    "deep": {
      "er": [
        1,
      ],
    },
  },
}"
`);
  });

  it('respects indent', () => {
    expect(print(snapshotOf(entries), { indent: 4 })).toMatchInlineSnapshot(`
"Keyspace {
    "a" (list) [
        "x",
        "y",
        "z",
    ],
    "b" (string) {
        "deep": {
            "er": [
                1,
            ],
        },
    },
}"
`);
  });

  it('respects min', () => {
    expect(print(snapshotOf(entries), { min: true })).toMatchInlineSnapshot(`"Keyspace {"a" (list) ["x", "y", "z"], "b" (string) {"deep": {"er": [1]}}}"`);
  });

  it('respects maxDepth: the capture itself, then nested JSON handed to the printer', () => {
    expect(print(snapshotOf(entries), { maxDepth: 0 })).toBe('[Keyspace]');
    expect(print({ inner: snapshotOf(entries) }, { maxDepth: 1 })).toBe('{\n  "inner": [Keyspace],\n}');
    expect(print(snapshotOf(entries), { maxDepth: 2 })).toMatchInlineSnapshot(`
"Keyspace {
  "a" (list) [
    "x",
    "y",
    "z",
  ],
  "b" (string) [Object],
}"
`);
  });

  it('respects maxWidth', () => {
    expect(print(snapshotOf(entries), { maxWidth: 1 })).toMatchInlineSnapshot(`
"Keyspace {
  "a" (list) [
    "x",
    …,
  ],
  …,
}"
`);
  });

  it('nested values follow snapshotFormat (printBasicPrototype, escapeString)', () => {
    const snap = snapshotOf([{ key: 'k', type: 'string', ttlMs: null, value: '{"q":"say \\"hi\\""}' }]);
    expect(print(snap, { printBasicPrototype: true, escapeString: true })).toMatchInlineSnapshot(`
"Keyspace {
  "k" (string) Object {
    "q": "say \\"hi\\"",
  },
}"
`);
  });
});

describe('values', () => {
  const one = (value: string | Buffer, print: Partial<KeyspacePrintOptions> = {}) =>
    printKeyspace(snapshotOf([{ key: 'k', type: 'string', ttlMs: null, value }], print).entries[0]!, { print, maxTextLength: Infinity });

  it('JSON objects and arrays print structured; JSON scalars, invalid JSON and lossy numbers print as text', () => {
    expect(one('{"b":1,"a":[true,null]}')).toMatchInlineSnapshot(`
""k" (string) {
  "a": [
    true,
    null,
  ],
  "b": 1,
}"
`);
    expect(one('  [1, 2]  ')).toMatchInlineSnapshot(`
""k" (string) [
  1,
  2,
]"
`);
    expect(one('42')).toBe('"k" (string) "42"');
    expect(one('"quoted"')).toBe('"k" (string) "\\"quoted\\""');
    expect(one('{"unterminated": ')).toBe('"k" (string) "{\\"unterminated\\": "');
    // 2^64 would be rounded by JSON.parse: kept as text so a changed last digit still shows
    expect(one('{"id":18446744073709551615}')).toBe('"k" (string) "{\\"id\\":18446744073709551615}"');
    // what JSON.stringify writes always round-trips
    expect(one(JSON.stringify({ x: 0.1 + 0.2 }))).toBe('"k" (string) {\n  "x": 0.30000000000000004,\n}');
    expect(one('{"a":1}', { json: false })).toBe('"k" (string) "{\\"a\\":1}"');
  });

  it('text escapes backslash, quote and control characters; keeps line feeds', () => {
    expect(one('a\\b"c\r\n\td\u0000e\u0085f\u2028')).toMatchInlineSnapshot(`
""k" (string) "a\\\\b\\"c\\r
\\td\\x00e\\u0085f\\u2028""
`);
  });

  it('bytes that are not UTF-8: escaped, hex or base64', () => {
    const bytes = Buffer.from([0x00, 0x41, 0xff, 0x22, 0x5c, 0x0a, 0x7f]);
    expect(one(bytes)).toBe('"k" (string) b"\\x00A\\xff\\"\\\\\\n\\x7f"');
    expect(one(bytes, { binary: 'hex' })).toBe('"k" (string) hex"0041ff225c0a7f"');
    expect(one(bytes, { binary: 'base64' })).toBe('"k" (string) base64"AEH/IlwKfw=="');
  });

  it('keys, fields and members are text too: binary ones print escaped', () => {
    const snap = snapshotOf([
      { key: Buffer.from([0xff]), type: 'hash', ttlMs: null, value: [[Buffer.from([0xfe]), 'v']] },
      { key: 'z', type: 'zset', ttlMs: null, value: [{ member: Buffer.from([0x80]), score: 1 }] },
    ]);
    expect(print(snap)).toMatchInlineSnapshot(`
"Keyspace {
  "z" (zset) [
    1 b"\\x80",
  ],
  b"\\xff" (hash) {
    b"\\xfe": "v",
  },
}"
`);
  });

  it('a huge value prints whole in a snapshot, cut with a note in a message', () => {
    const big = 'x'.repeat(100_000);
    const entry: KeyEntry = { key: 'big', type: 'string', ttlMs: null, value: big };
    expect(print(snapshotOf([entry]))).toContain(`"${big}"`);
    const message = printKeyspace(entry, { maxTextLength: 20 });
    expect(message).toBe(`"big" (string) "${'x'.repeat(20)}" …[99980 more characters not shown]`);
    const bytes: KeyEntry = { key: 'b', type: 'list', ttlMs: null, value: [Buffer.alloc(50, 0xff), 'ok'] };
    expect(printKeyspace(bytes, { maxTextLength: 4 })).toBe(
      '"b" (list) [\n  b"\\xff\\xff\\xff\\xff" …[46 more bytes not shown],\n  "ok",\n]',
    );
    const json: KeyEntry = { key: 'j', type: 'string', ttlMs: null, value: JSON.stringify({ body: 'y'.repeat(500) }) };
    expect(printKeyspace(json, { maxTextLength: 10 })).toBe('"j" (string) {\n  "body": "yyyyyyyyyy …[490 more characters not shown]",\n}');
  });
});

describe('stable order', () => {
  it('keys in byte order, sets sorted, zsets by score then member, hashes by field', async () => {
    const r = testRedis();
    await r.sadd('set', 'b', 'B', 'a', '10', '9', 'é');
    await r.zadd('z', 2, 'a', 1, 'b', 1, 'a2', '-inf', 'n', 1e-3, 'tiny', 1e21, 'huge');
    await r.hset('h', { b: '1', a: '1', A: '1', _: '1' });
    await r.mset('Z', '1', 'a', '1', '\u{1F600}', '1', '\uFFFD', '1');
    expect(await captureKeyspace(r)).toMatchInlineSnapshot(`
Keyspace {
  "Z" (string) "1",
  "a" (string) "1",
  "h" (hash) {
    "A": "1",
    "_": "1",
    "a": "1",
    "b": "1",
  },
  "set" (set) [
    "10",
    "9",
    "B",
    "a",
    "b",
    "é",
  ],
  "z" (zset) [
    -inf "n",
    0.001 "tiny",
    1 "a2",
    1 "b",
    2 "a",
    1e+21 "huge",
  ],
  "�" (string) "1",
  "😀" (string) "1",
}
`);
  });

  it('the same keyspace written in another order prints the same', async () => {
    const r = testRedis();
    const fields = Array.from({ length: 300 }, (_, i) => `f${i}`);
    await r.sadd('s', ...fields);
    await r.hset('h', Object.fromEntries(fields.map((f) => [f, f])));
    const first = print(await captureKeyspace(r));
    await r.flushall();
    const reversed = [...fields].reverse();
    await r.hset('h', Object.fromEntries(reversed.map((f) => [f, f])));
    await r.sadd('s', ...reversed);
    expect(print(await captureKeyspace(r))).toBe(first);
  });
});

describe('TTL rendering', () => {
  async function ttls(ttl?: KeyspacePrintOptions['ttl']): Promise<string> {
    const r = testRedis();
    await r.set('none', 'v');
    await r.set('sec', 'v', 'EX', 5);
    await r.set('min', 'v', 'EX', 60);
    await r.set('hour', 'v', 'EX', 3600);
    await r.set('day', 'v', 'EX', 86_400);
    await r.set('odd', 'v', 'EX', 100);
    await r.set('year2', 'v', 'EX', 2 * 365 * 86_400);
    return print(await captureKeyspace(r, ttl === undefined ? {} : { ttl }));
  }

  it('buckets by default: round TTLs print on their bound', async () => {
    expect(await ttls()).toMatchInlineSnapshot(`
"Keyspace {
  "day" (string, expires in ≤ 1d) "v",
  "hour" (string, expires in ≤ 1h) "v",
  "min" (string, expires in ≤ 1m) "v",
  "none" (string) "v",
  "odd" (string, expires in ≤ 5m) "v",
  "sec" (string, expires in ≤ 5s) "v",
  "year2" (string, expires in > 365d) "v",
}"
`);
  });

  it('custom buckets, seconds, presence, hide', async () => {
    expect(await ttls({ buckets: [10_000, 120_000] })).toContain('"hour" (string, expires in > 2m) "v"');
    // whole seconds, rounded up: between 1 and 60 for EX 60, whatever the speed of this machine
    const seconds = Number(/"min" \(string, expires in (\d+)s\) "v"/.exec(await ttls('seconds'))?.[1]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(await ttls('presence')).toContain('"min" (string, expires) "v"');
    const hidden = await ttls('hide');
    expect(hidden).toContain('"min" (string) "v"');
    expect(hidden).not.toMatch(/expires/);
  });

  it("exact: the remaining milliseconds (not stable, for debugging)", async () => {
    const ms = Number(/"min" \(string, expires in (\d+)ms\) "v"/.exec(await ttls('exact'))?.[1]);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(60_000);
  });
});

describe('stream IDs', () => {
  it('auto: clock-made IDs print as positions, chosen IDs as they are; exact and index', async () => {
    const r = testRedis();
    await r.xadd('clock', '*', 'n', '1');
    await r.xadd('clock', '*', 'n', '2');
    await r.xadd('chosen', '5-0', 'n', '1');
    await r.xadd('chosen', '5-1', 'n', '2');
    const auto = print(await captureKeyspace(r));
    expect(auto).toMatchInlineSnapshot(`
"Keyspace {
  "chosen" (stream) [
    5-0 {
      "n": "1",
    },
    5-1 {
      "n": "2",
    },
  ],
  "clock" (stream) [
    #1 {
      "n": "1",
    },
    #2 {
      "n": "2",
    },
  ],
}"
`);
    const exact = print(await captureKeyspace(r, { streamIds: 'exact' }));
    expect(exact).toMatch(/\n {4}\d{13}-\d+ \{/);
    const index = print(await captureKeyspace(r, { streamIds: 'index' }));
    expect(index).toContain('"chosen" (stream) [\n    #1 {');
  });
});

describe('the serializer module for snapshotSerializers', () => {
  it('exports test and serialize, as Jest expects of a snapshotSerializers entry', async () => {
    await testRedis().set('k', 'v');
    const snap = await captureKeyspace(testRedis());
    expect(plugin.test(snap)).toBe(true);
    expect(plugin.test({ entries: [] })).toBe(false);
    expect(format(snap, { plugins: [{ test: plugin.test, serialize: plugin.serialize }] })).toBe('Keyspace {\n  "k" (string) "v",\n}');
  });
});

describe('cache library envelopes (cacheEnvelopes)', () => {
  const NOW = 1_800_000_000_000;
  const keyv = (value: object): KeyEntry => ({ key: 'keyv::keyv:k', type: 'string', ttlMs: null, value: JSON.stringify(value) });
  const at = (print: Partial<KeyspacePrintOptions>, entries: KeyEntry[]) => ({ ...snapshotOf(entries, print), capturedAtMs: NOW });

  it('prints an expiry relative to the capture with the ttl rendering, <expired> once passed, <timestamp> with ttl: hide', () => {
    const entries = [keyv({ value: 1, expires: NOW + 60_000 }), { ...keyv({ value: 2, expires: NOW - 1 }), key: 'keyv::keyv:old' }];
    expect(print(at({}, entries))).toContain('"expires": <expires in ≤ 1m>');
    expect(print(at({}, entries))).toContain('"expires": <expired>');
    expect(print(at({ ttl: 'seconds' }, entries))).toContain('"expires": <expires in 60s>');
    expect(print(at({ ttl: 'hide' }, entries))).toContain('"expires": <timestamp>');
    expect(print(at({ cacheEnvelopes: 'exact' }, entries))).toContain(`"expires": ${NOW + 60_000}`);
  });

  it('leaves values that only look like an envelope as they are', () => {
    const printed = print(at({}, [
      keyv({ value: 1, expires: NOW + 60_000, extra: true }), // another field
      { ...keyv({ value: 1, expires: 60 }), key: 'b' }, // not a clock time
      { ...keyv({ value: 1, createdAt: NOW, logicalExpiration: NOW + 1, tags: 'x' }), key: 'c' }, // tags not a list
    ]));
    expect(printed).not.toContain('<');
  });
});

describe('a BentoCache tag invalidation record', () => {
  it('its value is a write time even when BentoCache read the clock a millisecond after createdAt', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { envelopeClock } = require('../../src/keyspace/codecs') as typeof import('../../src/keyspace/codecs');
    const createdAt = 1_796_416_713_415;
    expect(envelopeClock({ value: createdAt, createdAt, logicalExpiration: createdAt + 1000, tags: [] })?.written).toEqual(['createdAt', 'value']);
    expect(envelopeClock({ value: createdAt + 1, createdAt, logicalExpiration: createdAt + 1000, tags: [] })?.written).toEqual(['createdAt', 'value']);
    // A cached number that is not a time near the write stays a value.
    expect(envelopeClock({ value: 42, createdAt, logicalExpiration: createdAt + 1000, tags: [] })?.written).toEqual(['createdAt']);
  });
});
