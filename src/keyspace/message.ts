/**
 * Failure messages show huge values cut, with a note; snapshots never do. Two helpers:
 * - `printKeyspace(entry, { maxTextLength })` (serializer.ts) prints an entry with long texts cut;
 * - `truncateLongLines(message)` cuts the lines of an already formatted message (a snapshot diff).
 */

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
// eslint-disable-next-line no-control-regex
const LEADING_ANSI = /^(?:\u001b\[[0-9;]*m)*/;

/** Default longest line kept whole in a failure message. */
export const MESSAGE_LINE_LIMIT = 1000;

const HEAD = 60;

interface Line {
  raw: string;
  plain: string;
}

function note(count: number): string {
  return `…[${count} characters not shown]…`;
}

/** Keeps the head, then a window starting a little before `focus` (the first difference), with notes. */
function cutAround(line: Line, max: number, focus: number | undefined): string {
  const lead = LEADING_ANSI.exec(line.raw)?.[0] ?? '';
  const reset = lead ? '\u001b[0m' : '';
  const { plain } = line;
  let shown: string;
  if (focus === undefined || focus < max - HEAD) {
    shown = `${plain.slice(0, max)} ${note(plain.length - max).replace(/…$/, '')}`;
  } else {
    // The window shows a third of its width before the first difference and the rest after it.
    const start = Math.max(HEAD, focus - Math.floor((max - HEAD) / 3));
    const end = Math.min(plain.length, start + (max - HEAD));
    shown = `${plain.slice(0, HEAD)} ${note(start - HEAD)} ${plain.slice(start, end)}`;
    if (end < plain.length) shown += ` ${note(plain.length - end).replace(/…$/, '')}`;
  }
  return `${lead}${shown}${reset}`;
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Cuts every line longer than `maxLineLength` visible characters, keeping its colour, with notes saying how
 * much was left out. In a diff, the n-th long `-` line and the n-th long `+` line are cut around their
 * first difference, so a change deep inside a huge value is still visible. A closing line says the snapshot
 * file holds every value whole.
 */
export function truncateLongLines(message: string, maxLineLength: number = MESSAGE_LINE_LIMIT): string {
  const lines: Line[] = message.split('\n').map((raw) => ({ raw, plain: raw.replace(ANSI, '') }));
  const long = lines.filter((l) => l.plain.length > maxLineLength);
  if (long.length === 0) return message;
  const minus = long.filter((l) => l.plain.startsWith('-'));
  const plus = long.filter((l) => l.plain.startsWith('+'));
  const focus = new Map<Line, number>();
  for (let i = 0; i < Math.min(minus.length, plus.length); i++) {
    const p = commonPrefix(minus[i]!.plain.slice(1), plus[i]!.plain.slice(1)) + 1;
    focus.set(minus[i]!, p);
    focus.set(plus[i]!, p);
  }
  const out = lines.map((l) => (l.plain.length > maxLineLength ? cutAround(l, maxLineLength, focus.get(l)) : l.raw));
  out.push('', `(${long.length} long line${long.length === 1 ? '' : 's'} cut above; the snapshot holds every value whole)`);
  return out.join('\n');
}
