import { compareRedisText } from './text';
import type { RedisText } from './types';

/*
 * Sorting a capture by key, in UTF-8 byte order. A capture of 100k keys spends more time sorting than
 * anything else on the client with Array#sort and a comparator (keys of a cache share long prefixes such as
 * "user:"), so string keys are sorted with a multikey quicksort (Bentley & Sedgewick), which looks at each
 * character position once per partition instead of re-comparing shared prefixes.
 */

interface Keyed {
  key: RedisText;
}

/** A UTF-16 code unit remapped so that code-unit order equals code-point (so UTF-8 byte) order. */
function fixup(c: number): number {
  return c < 0xd800 ? c : c >= 0xe000 ? c - 0x800 : c + 0x2000;
}

function compareFrom(a: string, b: string, d: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = d; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

function charAt(keys: string[], i: number, d: number): number {
  const k = keys[i]!;
  return d < k.length ? fixup(k.charCodeAt(d)) : -1;
}

function swap(keys: string[], items: unknown[], i: number, j: number): void {
  const k = keys[i]!;
  keys[i] = keys[j]!;
  keys[j] = k;
  const t = items[i];
  items[i] = items[j];
  items[j] = t;
}

/** Sorts `items` by `keys` (parallel arrays, swapped together: the keys are read without an indirection). */
function multikeyQuicksort(keys: string[], items: unknown[], lo: number, hi: number, d: number): void {
  while (hi - lo > 12) {
    const x = charAt(keys, lo, d);
    const y = charAt(keys, (lo + hi) >>> 1, d);
    const z = charAt(keys, hi - 1, d);
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let lt = lo;
    let gt = hi - 1;
    let i = lo;
    while (i <= gt) {
      const c = charAt(keys, i, d);
      if (c < pivot) swap(keys, items, lt++, i++);
      else if (c > pivot) swap(keys, items, i, gt--);
      else i++;
    }
    multikeyQuicksort(keys, items, lo, lt, d);
    multikeyQuicksort(keys, items, gt + 1, hi, d);
    if (pivot < 0) return; // the middle part is keys that ended here: all equal
    lo = lt;
    hi = gt + 1;
    d++;
  }
  for (let i = lo + 1; i < hi; i++) {
    for (let j = i; j > lo && compareFrom(keys[j - 1]!, keys[j]!, d) > 0; j--) swap(keys, items, j - 1, j);
  }
}

function sameKey(a: RedisText, b: RedisText): boolean {
  return typeof a === 'string' && typeof b === 'string' ? a === b : compareRedisText(a, b) === 0;
}

/**
 * Sorts by key in UTF-8 byte order, in place, and drops items whose key repeats (SCAN may return a key more
 * than once); returns the same array.
 */
export function sortByKey<T extends Keyed>(list: T[]): T[] {
  const keys: string[] = new Array<string>(list.length);
  let allText = true;
  for (let i = 0; i < list.length; i++) {
    const key = list[i]!.key;
    if (typeof key !== 'string') {
      allText = false;
      break;
    }
    keys[i] = key;
  }
  if (allText) multikeyQuicksort(keys, list, 0, list.length, 0);
  else list.sort((a, b) => compareRedisText(a.key, b.key));
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    if (w > 0 && sameKey(list[w - 1]!.key, list[r]!.key)) continue;
    list[w++] = list[r]!;
  }
  list.length = w;
  return list;
}
