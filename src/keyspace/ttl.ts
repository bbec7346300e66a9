import { InvalidKeyspaceOptionError } from '../errors';
import type { TtlRendering } from './types';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/**
 * Default bucket upper bounds. Round TTLs (EX 60, EX 3600, EX 86400) sit exactly on a bound, and a TTL only
 * decreases, so `EX 3600` prints `≤ 1h` until 30 minutes have passed: the same on a fast and a slow machine.
 */
export const DEFAULT_TTL_BUCKETS: readonly number[] = [
  1 * S, 5 * S, 10 * S, 30 * S, 1 * M, 5 * M, 10 * M, 30 * M, 1 * H, 2 * H, 6 * H, 12 * H, 1 * D, 7 * D, 30 * D, 365 * D,
];

/** `90000` -> `1m30s`, `3600000` -> `1h`, `1500` -> `1.5s`, `250` -> `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < S) return `${ms}ms`;
  const units: Array<[number, string]> = [[D, 'd'], [H, 'h'], [M, 'm'], [S, 's']];
  if (ms % S !== 0 && ms < M) return `${Number((ms / S).toFixed(3))}s`;
  let rest = Math.round(ms / S) * S;
  let out = '';
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** Checks a `ttl` option and returns it (throws InvalidKeyspaceOptionError). */
export function validateTtlRendering(value: unknown, option = 'ttl'): TtlRendering {
  if (value === undefined) return 'buckets';
  if (value === 'buckets' || value === 'seconds' || value === 'exact' || value === 'presence' || value === 'hide') {
    return value;
  }
  if (typeof value === 'object' && value !== null && Array.isArray((value as { buckets?: unknown }).buckets)) {
    const buckets = (value as { buckets: unknown[] }).buckets;
    const ok =
      buckets.length > 0 &&
      buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (buckets[i - 1] as number)));
    if (ok) return { buckets: [...(buckets as number[])] };
    throw new InvalidKeyspaceOptionError(`${option}.buckets`, 'must be a non-empty list of increasing positive millisecond bounds');
  }
  throw new InvalidKeyspaceOptionError(
    option,
    `must be 'buckets', 'seconds', 'exact', 'presence', 'hide' or { buckets: [ms, ...] }; received ${JSON.stringify(value)}`,
  );
}

/**
 * The printed expiry of a key (`expires in ≤ 1m`), or undefined when nothing prints: a key without TTL, or
 * `ttl: 'hide'`.
 */
export function renderTtl(ttlMs: number | null, rendering: TtlRendering): string | undefined {
  if (ttlMs === null || rendering === 'hide') return undefined;
  switch (rendering) {
    case 'presence':
      return 'expires';
    case 'exact':
      return `expires in ${ttlMs}ms`;
    case 'seconds':
      return `expires in ${Math.ceil(ttlMs / S)}s`;
    default: {
      const buckets = rendering === 'buckets' ? DEFAULT_TTL_BUCKETS : rendering.buckets;
      const bound = buckets.find((b) => ttlMs <= b);
      return bound === undefined
        ? `expires in > ${formatDuration(buckets[buckets.length - 1]!)}`
        : `expires in ≤ ${formatDuration(bound)}`;
    }
  }
}
