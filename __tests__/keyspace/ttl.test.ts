import { DEFAULT_TTL_BUCKETS, formatDuration, renderTtl, validateTtlRendering } from '../../src/keyspace/ttl';

it('buckets: a TTL prints the smallest bound it does not exceed', () => {
  expect(renderTtl(null, 'buckets')).toBeUndefined();
  expect(renderTtl(0, 'buckets')).toBe('expires in ≤ 1s');
  expect(renderTtl(60_000, 'buckets')).toBe('expires in ≤ 1m');
  expect(renderTtl(30_001, 'buckets')).toBe('expires in ≤ 1m');
  expect(renderTtl(60_001, 'buckets')).toBe('expires in ≤ 5m');
  expect(renderTtl(365 * 86_400_000, 'buckets')).toBe('expires in ≤ 365d');
  expect(renderTtl(365 * 86_400_000 + 1, 'buckets')).toBe('expires in > 365d');
  expect(renderTtl(5_000, { buckets: [1500, 90_000] })).toBe('expires in ≤ 1m30s');
  expect(renderTtl(1_000, { buckets: [1500, 90_000] })).toBe('expires in ≤ 1.5s');
});

it('the default bounds are increasing', () => {
  expect([...DEFAULT_TTL_BUCKETS].sort((a, b) => a - b)).toEqual(DEFAULT_TTL_BUCKETS);
});

it('seconds round up, exact keeps milliseconds, presence and hide', () => {
  expect(renderTtl(59_001, 'seconds')).toBe('expires in 60s');
  expect(renderTtl(60_000, 'seconds')).toBe('expires in 60s');
  expect(renderTtl(1234, 'exact')).toBe('expires in 1234ms');
  expect(renderTtl(1234, 'presence')).toBe('expires');
  expect(renderTtl(1234, 'hide')).toBeUndefined();
  expect(renderTtl(null, 'presence')).toBeUndefined();
});

it('formatDuration', () => {
  expect([250, 1000, 1500, 90_000, 3_600_000, 86_400_000 + 3_600_000].map(formatDuration)).toEqual([
    '250ms', '1s', '1.5s', '1m30s', '1h', '1d1h',
  ]);
});

it('validateTtlRendering', () => {
  expect(validateTtlRendering(undefined)).toBe('buckets');
  expect(validateTtlRendering({ buckets: [1, 2] })).toEqual({ buckets: [1, 2] });
  expect(() => validateTtlRendering({ buckets: [] })).toThrow(/increasing positive/);
  expect(() => validateTtlRendering('round')).toThrow(/'buckets', 'seconds', 'exact', 'presence', 'hide'/);
});
