import { format, type Config, type NewPlugin, type Printer, type Refs } from 'pretty-format';
import { InvalidKeyspaceOptionError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { parseJsonValue } from './json';
import { REDACTED } from './redact';
import { compareRedisText, quoteRedisText } from './text';
import { SERIALIZER_REGISTERED } from './lazySerializer';
import { renderTtl } from './ttl';
import { envelopeClock } from './codecs';
import {
  isKeyspaceSnapshot,
  KEYSPACE_BRAND,
  type KeyEntry,
  type KeyspacePrintOptions,
  type KeyspaceSnapshot,
  type OtherTypeEntry,
  type RedisText,
} from './types';

/*
 * The printed form of a keyspace capture:
 *
 *   Keyspace {
 *     "counter" (string) "42",
 *     "session:1" (hash, expires in ≤ 1h) [REDACTED],
 *     "user:1" (string, expires in ≤ 1h) {
 *       "email": "ada@example.com",
 *       "id": 1,
 *     },
 *   }
 *
 * One line per key names the key, its type and its expiry, so a changed TTL or a changed type shows as
 * a changed line in a diff, and a missing or extra key as a removed or added block.
 */

const NAME = 'Keyspace';

export const DEFAULT_PRINT_OPTIONS: KeyspacePrintOptions = { ttl: 'buckets', json: true, binary: 'escape', streamIds: 'auto', cacheEnvelopes: 'stable' };

export interface KeyspaceSerializerOptions {
  /**
   * Texts longer than this many characters (bytes, for binary) print cut, with a note of how much was left
   * out. For failure messages only: snapshots always hold every value whole. Default: no limit.
   */
  maxTextLength?: number;
}

interface Ctx {
  /** What the clock fields of cache libraries' values print relative to. */
  nowMs: number;
  config: Config;
  refs: Refs;
  printer: Printer;
  depth: number;
  print: KeyspacePrintOptions;
  maxTextLength: number;
}

/** `{`, items, `}` laid out like pretty-format does (indentation, `min`, trailing comma, maxWidth). */
function block(open: string, close: string, items: string[], indentation: string, config: Config): string {
  if (items.length === 0) return `${open}${close}`;
  const inner = indentation + config.indent;
  const shown = items.length > config.maxWidth ? [...items.slice(0, config.maxWidth), '…'] : items;
  const body = shown.map((item) => inner + item).join(`,${config.spacingInner}`);
  return `${open}${config.spacingOuter}${body}${config.min ? '' : ','}${config.spacingOuter}${indentation}${close}`;
}

function cut(text: RedisText, max: number): { text: RedisText; note: string } {
  if (typeof text === 'string') {
    if (text.length <= max) return { text, note: '' };
    return { text: text.slice(0, max), note: ` …[${text.length - max} more characters not shown]` };
  }
  if (text.length <= max) return { text, note: '' };
  return { text: text.subarray(0, max), note: ` …[${text.length - max} more bytes not shown]` };
}

function printText(text: RedisText, ctx: Ctx): string {
  const { text: shown, note } = cut(text, ctx.maxTextLength);
  return quoteRedisText(shown, ctx.print.binary) + note;
}

/** Long strings inside a JSON value, cut for a message. */
function cutJson(value: unknown, max: number): unknown {
  if (typeof value === 'string') {
    const { text, note } = cut(value, max);
    return note ? `${text as string}${note}` : value;
  }
  if (Array.isArray(value)) return value.map((v) => cutJson(v, max));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: cutJson(v, max), enumerable: true });
    return out;
  }
  return value;
}

/** Text printed as it is inside a JSON value: `<expires in ≤ 1m>`. */
class Placeholder {
  constructor(readonly text: string) {}
}

const PLACEHOLDER_PLUGIN: NewPlugin = {
  test: (value: unknown) => value instanceof Placeholder,
  serialize: (value: unknown) => (value as Placeholder).text,
};

/**
 * A Keyv or BentoCache envelope with its clock fields as placeholders: an expiry relative to the capture,
 * printed like a TTL; a write time as `<timestamp>`. Other values are returned as they are.
 */
function stableEnvelope(value: object, ctx: Ctx): object {
  const clock = envelopeClock(value);
  if (!clock) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of clock.expiry) {
    const left = (out[field] as number) - ctx.nowMs;
    const ttl = left > 0 ? renderTtl(left, ctx.print.ttl) : 'expired';
    out[field] = new Placeholder(`<${ttl ?? 'timestamp'}>`);
  }
  for (const field of clock.written) out[field] = new Placeholder('<timestamp>');
  return out;
}

/** A value that may hold JSON (string values, hash values, list items, stream values). */
function printValue(text: RedisText, indentation: string, ctx: Ctx): string {
  if (ctx.print.json && typeof text === 'string') {
    const parsed = parseJsonValue(text);
    if (parsed !== undefined) {
      const value = Number.isFinite(ctx.maxTextLength) ? (cutJson(parsed, ctx.maxTextLength) as object) : parsed;
      const shown = ctx.print.cacheEnvelopes === 'exact' ? value : stableEnvelope(value, ctx);
      const config = shown === value ? ctx.config : { ...ctx.config, plugins: [PLACEHOLDER_PLUGIN, ...ctx.config.plugins] };
      return ctx.printer(shown, config, indentation, ctx.depth + 1, ctx.refs);
    }
  }
  return printText(text, ctx);
}

function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  return String(score);
}

/** A stream ID's time part looks like a clock (after 2001-09-09): it was made by `XADD key *`. */
function isClockId(id: string): boolean {
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) && ms >= 1e12;
}

function printStreamId(id: string, index: number, ctx: Ctx): string {
  const mode = ctx.print.streamIds;
  if (mode === 'index' || (mode === 'auto' && isClockId(id))) return `#${index + 1}`;
  return id;
}

function byText(a: RedisText, b: RedisText): number {
  return compareRedisText(a, b);
}

function printEntryValue(entry: KeyEntry, indentation: string, ctx: Ctx): string {
  const { config } = ctx;
  if (entry.redacted) return REDACTED;
  switch (entry.type) {
    case 'string':
      return printValue(entry.value, indentation, ctx);
    case 'hash': {
      const inner = indentation + config.indent;
      const fields = [...entry.value].sort((a, b) => byText(a[0], b[0]));
      return block('{', '}', fields.map(([f, v]) => `${printText(f, ctx)}: ${printValue(v, inner, ctx)}`), indentation, config);
    }
    case 'list': {
      const inner = indentation + config.indent;
      return block('[', ']', entry.value.map((v) => printValue(v, inner, ctx)), indentation, config);
    }
    case 'set':
      return block('[', ']', [...entry.value].sort(byText).map((m) => printText(m, ctx)), indentation, config);
    case 'zset': {
      const members = [...entry.value].sort((a, b) =>
        a.score === b.score ? byText(a.member, b.member) : a.score < b.score ? -1 : 1,
      );
      return block('[', ']', members.map(({ member, score }) => `${formatScore(score)} ${printText(member, ctx)}`), indentation, config);
    }
    case 'stream': {
      const inner = indentation + config.indent;
      const innermost = inner + config.indent;
      return block(
        '[',
        ']',
        entry.value.map(
          ({ id, fields }, i) =>
            `${printStreamId(id, i, ctx)} ${block(
              '{',
              '}',
              fields.map(([f, v]) => `${printText(f, ctx)}: ${printValue(v, innermost, ctx)}`),
              inner,
              config,
            )}`,
        ),
        indentation,
        config,
      );
    }
  }
}

function header(key: RedisText, type: string, ttlMs: number | null, ctx: Ctx): string {
  const ttl = renderTtl(ttlMs, ctx.print.ttl);
  return `${printText(key, ctx)} (${type}${ttl ? `, ${ttl}` : ''})`;
}

function printEntryLine(entry: KeyEntry, indentation: string, ctx: Ctx): string {
  return `${header(entry.key, entry.type, entry.ttlMs, ctx)} ${printEntryValue(entry, indentation, ctx)}`;
}

function printOtherLine(entry: OtherTypeEntry, ctx: Ctx): string {
  return `${header(entry.key, entry.type, entry.ttlMs, ctx)} [not read: type not supported]`;
}

function printSnapshot(snapshot: KeyspaceSnapshot, indentation: string, ctx: Ctx): string {
  const inner = indentation + ctx.config.indent;
  const lines: Array<{ key: RedisText; line: string }> = [
    ...snapshot.entries.map((e) => ({ key: e.key, line: printEntryLine(e, inner, ctx) })),
    ...(snapshot.otherTypes ?? []).map((e) => ({ key: e.key, line: printOtherLine(e, ctx) })),
  ];
  lines.sort((a, b) => byText(a.key, b.key));
  return block(`${NAME} {`, '}', lines.map((l) => l.line), indentation, ctx.config);
}

function isEntryRecord(value: unknown): value is KeyEntry {
  return typeof value === 'object' && value !== null && 'key' in value && 'type' in value && 'value' in value;
}

/**
 * A pretty-format plugin for keyspace captures. `test` accepts only values carrying KEYSPACE_BRAND (what
 * `captureKeyspace` returns); everything nested (JSON values) is printed by pretty-format's own printer, so
 * snapshotFormat options apply to it.
 */
/** The known keys of each options object (the types keep them complete). */
const SERIALIZER_KEYS = optionKeys<KeyspaceSerializerOptions>({ maxTextLength: true });
const PRINT_KEYS = optionKeys<PrintKeyspaceOptions>({ maxTextLength: true, print: true, min: true, indent: true });
const PRINT_CHOICE_KEYS = optionKeys<KeyspacePrintOptions>({ ttl: true, json: true, binary: true, streamIds: true, cacheEnvelopes: true });

function refuseUnknownKeys(options: unknown, known: readonly string[], path = ''): void {
  if (typeof options !== 'object' || options === null) return;
  const unknown = findUnknownKey(options, known);
  if (unknown) throw new InvalidKeyspaceOptionError(path + unknown.key, unknown.problem);
}

export function createKeyspaceSerializer(options: KeyspaceSerializerOptions = {}): NewPlugin {
  refuseUnknownKeys(options, SERIALIZER_KEYS);
  const maxTextLength = options.maxTextLength ?? Infinity;
  return {
    test: (value: unknown) => isKeyspaceSnapshot(value),
    serialize(value: unknown, config: Config, indentation: string, depth: number, refs: Refs, printer: Printer): string {
      const snapshot = value as KeyspaceSnapshot;
      if (++depth > config.maxDepth) return `[${NAME}]`;
      const print = { ...DEFAULT_PRINT_OPTIONS, ...snapshot.print };
      const nowMs = snapshot.capturedAtMs ?? Date.now();
      return printSnapshot(snapshot, indentation, { nowMs, config, refs, printer, depth, print, maxTextLength });
    },
  };
}

/** The serializer the preset registers. For your own config: `snapshotSerializers: ['jest-cache-consistency/serializer']`. */
export const keyspaceSerializer: NewPlugin = createKeyspaceSerializer();

export interface PrintKeyspaceOptions extends KeyspaceSerializerOptions {
  /** Printing choices for a bare entry (a capture carries its own). */
  print?: Partial<KeyspacePrintOptions>;
  /** pretty-format's `min`. */
  min?: boolean;
  indent?: number;
}

/** Default cut for failure messages. */
export const MESSAGE_TEXT_LIMIT = 200;

/**
 * Prints a capture, or one entry, in the snapshot format; for failure messages pass `maxTextLength`
 * (default here: {@link MESSAGE_TEXT_LIMIT}; `Infinity` for whole values).
 *
 * @example printKeyspace(entry) // '"user:1" (string, expires in ≤ 1h) {\n  "id": 1,\n}'
 */
export function printKeyspace(value: KeyspaceSnapshot | KeyEntry, options: PrintKeyspaceOptions = {}): string {
  refuseUnknownKeys(options, PRINT_KEYS);
  refuseUnknownKeys(options.print, PRINT_CHOICE_KEYS, 'print.');
  const plugin = createKeyspaceSerializer({ maxTextLength: options.maxTextLength ?? MESSAGE_TEXT_LIMIT });
  const common = { plugins: [plugin], min: options.min ?? false, indent: options.min ? 0 : (options.indent ?? 2), escapeString: false, printBasicPrototype: false };
  if (isKeyspaceSnapshot(value)) return format(value, common);
  if (!isEntryRecord(value)) throw new TypeError('printKeyspace needs a keyspace capture or one of its entries');
  // One entry: print it through a one-entry capture and keep its line(s).
  const single: KeyspaceSnapshot = {
    [KEYSPACE_BRAND]: true,
    entries: [value],
    otherTypes: [],
    print: { ...DEFAULT_PRINT_OPTIONS, ...options.print },
  };
  const printed = format(single, common);
  if (common.min) return printed.slice(`${NAME} {`.length, -1);
  const pad = ' '.repeat(common.indent);
  const lines = printed.split('\n').slice(1, -1).map((l) => (l.startsWith(pad) ? l.slice(pad.length) : l));
  lines[lines.length - 1] = lines[lines.length - 1]!.replace(/,$/, '');
  return lines.join('\n');
}

const REGISTERED = SERIALIZER_REGISTERED;

interface ExpectWithSerializers {
  addSnapshotSerializer(plugin: NewPlugin): void;
}

/**
 * Adds the serializer to Jest's snapshot serializers once per test file (the preset's setup file does;
 * toMatchKeyspaceSnapshot does too, in case it was registered without the preset). Returns false when no
 * `expect` with `addSnapshotSerializer` is available.
 */
export function registerKeyspaceSerializer(
  target: unknown = (globalThis as { expect?: unknown }).expect,
): boolean {
  const e = target as (ExpectWithSerializers & { [REGISTERED]?: true }) | undefined;
  if (!e || typeof e.addSnapshotSerializer !== 'function') return false;
  if (e[REGISTERED]) return true;
  e.addSnapshotSerializer(keyspaceSerializer);
  Object.defineProperty(e, REGISTERED, { value: true, enumerable: false, configurable: true });
  return true;
}
