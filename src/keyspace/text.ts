import { isUtf8 } from 'node:buffer';
import type { BinaryRendering, RedisText } from './types';

/** A string when the bytes are valid UTF-8, else the bytes themselves (never decoded lossily). */
export function toRedisText(bytes: Buffer): RedisText {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes;
}

/** The bytes of a RedisText. */
export function redisTextBytes(text: RedisText): Buffer {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/** A UTF-16 code unit remapped so that code-unit order equals code-point (and so UTF-8 byte) order. */
function fixup(c: number): number {
  return c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c;
}

/** Byte order of the UTF-8 encodings (what Redis uses), without encoding valid-UTF-8 strings. */
export function compareRedisText(a: RedisText, b: RedisText): number {
  if (typeof a === 'string' && typeof b === 'string') {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i);
      const y = b.charCodeAt(i);
      if (x !== y) return fixup(x) - fixup(y);
    }
    return a.length - b.length;
  }
  return Buffer.compare(redisTextBytes(a), redisTextBytes(b));
}

const NAMED: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\r': '\\r', '\t': '\\t' };

/**
 * A valid-UTF-8 string as a double-quoted literal: `\` and `"` escaped, control characters (except the
 * line feed, kept so that multi-line text diffs line by line) escaped as `\r`, `\t`, `\x01`, `\u0085`.
 * Nothing in the output can be changed by the snapshot file's newline normalisation.
 */
export function quoteText(text: string): string {
  const escaped = text.replace(/[\\"\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => {
    const named = NAMED[ch];
    if (named) return named;
    const code = ch.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return `"${escaped}"`;
}

/**
 * Bytes that are not valid UTF-8: `b"..."` with printable ASCII kept and every other byte escaped
 * (`\xff`, `\n`, ...), or `hex"..."`, or `base64"..."`.
 */
export function quoteBytes(bytes: Buffer, style: BinaryRendering = 'escape'): string {
  if (style === 'hex') return `hex"${bytes.toString('hex')}"`;
  if (style === 'base64') return `base64"${bytes.toString('base64')}"`;
  let out = 'b"';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** A RedisText as it prints in a keyspace snapshot. */
export function quoteRedisText(text: RedisText, binary: BinaryRendering = 'escape'): string {
  return typeof text === 'string' ? quoteText(text) : quoteBytes(text, binary);
}
