/**
 * Key patterns: `user:{id}`, `posts:by-user:{userId}`, `user:{{{id}}}` (a Redis Cluster hash tag: `{{` and
 * `}}` are literal braces). A parameter matches one or more characters other than `:`.
 */

/** The parameter names of a key pattern, as a union: `ParamNames<'user:{id}:{tab}'>` is `'id' | 'tab'`. */
export type ParamNames<K extends string> = string extends K
  ? string
  : K extends `${string}{{${string}`
    ? string // escaped braces: too irregular for the type level, fall back to any name
    : K extends `${string}{${infer P}}${infer Rest}`
      ? P | ParamNames<Rest>
      : never;

/** The parameters of a key matched by pattern `K`, each as the text found in the key. */
export type KeyParams<K extends string> = { [P in ParamNames<K>]: string };

export interface KeyPattern {
  readonly source: string;
  /** Parameter names in order of appearance. */
  readonly params: readonly string[];
  /** The parameters of `key`, or undefined when it does not match. */
  match(key: string): Record<string, string> | undefined;
  /** The key for the given parameter values. */
  format(values: Record<string, unknown>): string;
}

const PARAM = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Part = { literal: string } | { param: string };

/** Parses a key pattern, or returns the reason it is invalid. */
export function compileKeyPattern(source: string): KeyPattern | string {
  if (typeof source !== 'string' || source.length === 0) return 'must be a non-empty string';
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < source.length; ) {
    const c = source[i]!;
    if (c === '{' && source[i + 1] === '{') {
      literal += '{';
      i += 2;
    } else if (c === '}' && source[i + 1] === '}') {
      literal += '}';
      i += 2;
    } else if (c === '{') {
      const end = source.indexOf('}', i);
      if (end < 0) return `unclosed "{" at position ${i} (write "{{" for a literal brace)`;
      const name = source.slice(i + 1, end);
      if (!PARAM.test(name)) return `parameter {${name}} must be an identifier (letters, digits, _)`;
      if (parts.some((p) => 'param' in p && p.param === name)) return `parameter {${name}} appears twice`;
      const prev = parts[parts.length - 1];
      if (literal === '' && prev && 'param' in prev) return `parameters {${prev.param}} and {${name}} need a literal between them`;
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ param: name });
      i = end + 1;
    } else if (c === '}') {
      return `unmatched "}" at position ${i} (write "}}" for a literal brace)`;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal) parts.push({ literal });
  const params = parts.flatMap((p) => ('param' in p ? [p.param] : []));
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const regex = new RegExp(`^${parts.map((p) => ('param' in p ? '([^:]+)' : escape(p.literal))).join('')}$`, 's');
  return {
    source,
    params,
    match(key: string) {
      const m = regex.exec(key);
      if (!m) return undefined;
      const out: Record<string, string> = {};
      params.forEach((name, i) => (out[name] = m[i + 1]!));
      return out;
    },
    format(values: Record<string, unknown>) {
      return parts
        .map((p) => {
          if ('literal' in p) return p.literal;
          const v = values[p.param];
          if (v === undefined || v === null) throw new TypeError(`missing value for {${p.param}} of key pattern ${source}`);
          return String(v);
        })
        .join('');
    },
  };
}
