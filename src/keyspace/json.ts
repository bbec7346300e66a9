/**
 * JSON detection for printing. Only objects and arrays print structured: a string holding `42` or `"x"` or
 * `true` is still text (so a counter does not turn into a number in the snapshot).
 */

/** First non-whitespace character is `{` or `[` and the last is the matching `}` or `]`. */
export function looksLikeJson(text: string): boolean {
  let i = 0;
  while (i < text.length && isJsonSpace(text.charCodeAt(i))) i++;
  let j = text.length - 1;
  while (j > i && isJsonSpace(text.charCodeAt(j))) j--;
  if (j <= i) return false;
  const a = text[i];
  const b = text[j];
  return (a === '{' && b === '}') || (a === '[' && b === ']');
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * True when a number literal in the JSON text would be rounded by JSON.parse (more than 15 significant
 * digits that do not round-trip): such a value prints as text, so that a change in its last digits still
 * shows in the snapshot. Numbers written by JSON.stringify always round-trip.
 */
export function hasLossyNumber(text: string): boolean {
  const number = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip a string literal
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      number.lastIndex = i;
      const m = number.exec(text);
      if (!m) continue;
      const token = m[0];
      i += token.length - 1;
      if (String(Number(token)) === token) continue;
      const mantissa = token.replace(/^-/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
      if (mantissa.length > 15) return true;
    }
  }
  return false;
}

/**
 * The structured value of a JSON object or array text, or `undefined` when the text is not one (or would
 * lose precision when parsed).
 */
export function parseJsonValue(text: string): object | undefined {
  if (!looksLikeJson(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (hasLossyNumber(text)) return undefined;
  return value;
}
