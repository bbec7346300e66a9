/**
 * Readable, deterministic one-line renderings of step arguments and results for the timeline:
 * `redis GET user:1 -> null`, `db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] -> 1 row`.
 */
import type { StepOutcome } from '../step';

const MAX_ARG = 48;
const MAX_SQL = 72;
const MAX_RESULT = 60;

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 3))}...`;
}

function isUtf8(buf: Buffer): boolean {
  // Round-trips only when every byte sequence was valid UTF-8.
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** A Redis argument or reply element as text. */
export function redisText(value: unknown): string {
  if (Buffer.isBuffer(value)) return isUtf8(value) ? value.toString('utf8') : `<${value.length} bytes 0x${value.subarray(0, 8).toString('hex')}>`;
  if (value instanceof Uint8Array) return redisText(Buffer.from(value));
  return String(value);
}

/** One argument: bare when it is a plain token, otherwise JSON-quoted (so spaces and empties stay visible). */
export function formatArg(value: unknown, max = MAX_ARG): string {
  const text = redisText(value);
  if (text !== '' && /^[^\s"']+$/.test(text)) return truncate(text, max);
  if (!/\s/.test(text) && isJsonDocument(text)) return truncate(text, max);
  return truncate(JSON.stringify(text), max);
}

/** A JSON object or array written without spaces (what JSON.stringify produces): shown as is. */
function isJsonDocument(text: string): boolean {
  if (!/^[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function formatRedisCommand(command: string, args: readonly unknown[]): string {
  const upper = command.toUpperCase();
  if ((upper === 'EVAL' || upper === 'EVAL_RO') && args.length > 0) {
    const script = truncate(redisText(args[0]).replace(/\s+/g, ' ').trim(), 30);
    return [upper, JSON.stringify(script), ...args.slice(1).map((a) => formatArg(a))].join(' ');
  }
  if ((upper === 'EVALSHA' || upper === 'EVALSHA_RO') && args.length > 0) {
    return [upper, redisText(args[0]).slice(0, 8), ...args.slice(1).map((a) => formatArg(a))].join(' ');
  }
  return [upper, ...args.map((a) => formatArg(a))].join(' ');
}

export function formatRedisReply(value: unknown, max = MAX_RESULT): string {
  const render = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (v instanceof Error) return `!${v.message}`;
    if (Array.isArray(v)) return depth > 2 ? '[...]' : `[${v.map((x) => render(x, depth + 1)).join(', ')}]`;
    if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
    if (Buffer.isBuffer(v) || typeof v === 'string') return formatArg(v, max);
    if (v instanceof Map) return render([...v.entries()].flat(), depth);
    if (typeof v === 'object') {
      try {
        return JSON.stringify(v) ?? String(v);
      } catch {
        return String(v);
      }
    }
    return String(v);
  };
  return truncate(render(value, 0), max);
}

export function formatError(error: unknown): string {
  if (error instanceof Error) return `${error.name && error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}`;
  return String(error);
}

export function formatOutcome(outcome: StepOutcome, ok: (value: unknown) => string): string {
  return outcome.ok ? `-> ${ok(outcome.value)}` : `-> !${truncate(formatError(outcome.error).split('\n')[0]!, MAX_RESULT)}`;
}

/** SQL on one line: whitespace collapsed, truncated. */
export function formatSql(sql: string, params: readonly unknown[] | undefined): string {
  const text = truncate(sql.replace(/\s+/g, ' ').trim(), MAX_SQL);
  if (!params || params.length === 0) return text;
  return `${text} ${formatValue(params, 40)}`;
}

/** A JS value (row, params) compactly: `{id: 1, name: 'Tom'}`, `['Jerry', 1]`. */
export function formatValue(value: unknown, max = MAX_RESULT): string {
  const render = (v: unknown, depth: number): string => {
    if (v === null) return 'null';
    if (v === undefined) return 'undefined';
    if (typeof v === 'string') return `'${v.replace(/'/g, "\\'")}'`;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
    if (v instanceof Error) return formatError(v);
    if (depth > 2) return Array.isArray(v) ? '[...]' : '{...}';
    if (Array.isArray(v)) return `[${v.map((x) => render(x, depth + 1)).join(', ')}]`;
    if (typeof v === 'object') {
      const entries = Object.keys(v as object).map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${render((v as Record<string, unknown>)[k], depth + 1)}`);
      return `{${entries.join(', ')}}`;
    }
    return String(v);
  };
  return truncate(render(value, 0), max);
}

/** The statement's first keyword, upper case: `SELECT`, `UPDATE`, `BEGIN`. */
export function sqlKeyword(sql: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/.exec(sql);
  return (m?.[1] ?? 'SQL').toUpperCase();
}

/** A database result (rows or a row count) for the timeline. */
export function formatRows(rows: readonly unknown[] | undefined, rowCount: number | null | undefined, keyword: string): string {
  if (keyword === 'SELECT' || keyword === 'WITH' || keyword === 'SHOW' || (rows && rows.length > 0)) {
    const list = rows ?? [];
    if (list.length === 0) return '0 rows';
    if (list.length === 1) return formatValue(list[0]);
    return `${list.length} rows ${formatValue(list[0], 36)}, ...`;
  }
  if (typeof rowCount === 'number') return rowCount === 1 ? '1 row' : `${rowCount} rows`;
  return 'ok';
}
