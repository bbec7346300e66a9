/**
 * Redis glob patterns (the syntax of SCAN MATCH and KEYS): `*` any bytes, `?` one byte, `[abc]`, `[^a]`,
 * `[a-z]`, and `\` to escape. Matching is on bytes, exactly as the server does it: a key and a pattern are
 * both compared as Latin-1 text of their UTF-8 bytes, so `?` matches one byte.
 */
export type KeyMatcher = (key: Buffer) => boolean;

const cache = new Map<string, RegExp>();

function escapeRegExpChar(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

function hex(ch: string): string {
  return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** Compiles a Redis glob (text, or bytes) to an anchored RegExp over Latin-1 text (one char per byte). */
export function globToRegExp(pattern: string | Buffer): RegExp {
  const p = Buffer.isBuffer(pattern) ? pattern.toString('latin1') : Buffer.from(pattern, 'utf8').toString('latin1');
  const cached = cache.get(p);
  if (cached) return cached;
  let out = '^';
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === '*') {
      while (p[i + 1] === '*') i++;
      out += '[\\s\\S]*';
    } else if (ch === '?') {
      out += '[\\s\\S]';
    } else if (ch === '\\' && i + 1 < p.length) {
      out += hex(p[++i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let negate = false;
      if (p[j] === '^') {
        negate = true;
        j++;
      }
      let cls = '';
      // Like Redis: an unterminated class runs to the end of the pattern.
      while (j < p.length && p[j] !== ']') {
        if (p[j] === '\\' && j + 1 < p.length) {
          cls += hex(p[j + 1]!);
          j += 2;
        } else if (p[j + 1] === '-' && j + 2 < p.length) {
          // Like Redis: `x-y` is a range even when y is `]` (the class then goes on).
          let a = p[j]!.charCodeAt(0);
          let b = p[j + 2]!.charCodeAt(0);
          if (a > b) [a, b] = [b, a];
          cls += `${hex(String.fromCharCode(a))}-${hex(String.fromCharCode(b))}`;
          j += 3;
        } else {
          cls += hex(p[j]!);
          j++;
        }
      }
      i = j; // at ']' or past the end
      out += cls === '' ? (negate ? '[\\s\\S]' : '(?!)') : `[${negate ? '^' : ''}${cls}]`;
    } else {
      out += escapeRegExpChar(ch);
    }
  }
  out += '$';
  const re = new RegExp(out);
  cache.set(p, re);
  return re;
}

/** True when the key's bytes match the Redis glob. */
export function matchesGlob(key: Buffer | string, pattern: string): boolean {
  const text = typeof key === 'string' ? Buffer.from(key, 'utf8').toString('latin1') : key.toString('latin1');
  return globToRegExp(pattern).test(text);
}

/**
 * A filter for include (`match`) and exclude globs: a key passes when it matches one of `match` (or there
 * is none) and none of `exclude`.
 */
export function keyFilter(match: readonly string[], exclude: readonly string[]): KeyMatcher | undefined {
  if (match.length === 0 && exclude.length === 0) return undefined;
  const inc = match.map(globToRegExp);
  const exc = exclude.map(globToRegExp);
  return (key) => {
    const text = key.toString('latin1');
    if (inc.length > 0 && !inc.some((re) => re.test(text))) return false;
    return !exc.some((re) => re.test(text));
  };
}

/** The bytes with the glob's special characters (`*`, `?`, `[`, `]`, `\`) escaped: a glob matching them literally. */
export function escapeGlob(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (const b of bytes) {
    if (b === 0x2a || b === 0x3f || b === 0x5b || b === 0x5d || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  return Buffer.from(out);
}
