/**
 * The race report: the timeline as ASCII swimlanes (one column per actor, each step on its own row, with
 * the values read and written), the last writer of each key, every actor's outcome, and the replay token.
 * Deterministic: no timestamps, no durations, keys sorted.
 */
import { indent } from '../../errors';
import { formatError, truncate } from '../instrument/labels';
import type { KeyWriterRegistry } from './keyWriters';
import { describeOutcome, type ActorOutcome } from '../schedule/run';
import type { StepRecord } from '../step';

const COLUMN = 52;

function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut < width / 2) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = `  ${rest.slice(cut).trimStart()}`;
  }
  if (rest.trim()) lines.push(rest);
  return lines.slice(0, 6).concat(lines.length > 6 ? [truncate('  ...', width)] : []);
}

/**
 * ```
 *  #  | reader                         | writer
 * ----+--------------------------------+---------------------------
 *  1  | redis GET user:1 -> null       |
 *  2  |                                | db UPDATE users ... -> 1 row
 * ```
 */
export function formatTimeline(actors: readonly string[], records: readonly StepRecord[]): string {
  if (records.length === 0) return '  (no steps)';
  const width = Math.max(3, String(records.length).length + 1);
  const widths = actors.map((a) => {
    const longest = Math.max(a.length, ...records.filter((r) => r.actor === a).map((r) => r.label.length + (r.fault ? 2 : 0)));
    return Math.min(COLUMN, Math.max(8, longest));
  });
  const row = (num: string, cells: string[]) =>
    `${num.padStart(width)} | ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join(' | ')}`.trimEnd();
  const out = [row('#', [...actors]), `${'-'.repeat(width)}-+-${widths.map((w) => '-'.repeat(w)).join('-+-')}`];
  for (const r of records) {
    const col = actors.indexOf(r.actor);
    const text = `${r.fault ? '! ' : ''}${r.label}`;
    const lines = wrap(text, widths[col]!);
    lines.forEach((line, i) => {
      const cells = actors.map((_, j) => (j === col ? line : ''));
      out.push(row(i === 0 ? String(r.index) : '', cells));
    });
  }
  return out.join('\n');
}

/** One line per step: `reader  redis GET user:1 -> null`. */
export function formatSteps(records: readonly StepRecord[]): string {
  const pad = Math.max(0, ...records.map((r) => r.actor.length));
  return records.map((r) => `${String(r.index).padStart(3)}  ${r.actor.padEnd(pad)}  ${r.fault ? '! ' : ''}${r.label}`).join('\n');
}

export interface ReportInput {
  readonly headline: string;
  readonly actors: readonly string[];
  readonly records: readonly StepRecord[];
  readonly outcomes: Record<string, ActorOutcome>;
  readonly checkError: unknown;
  readonly unprovoked: ReadonlyArray<{ actor: string; error: unknown }>;
  readonly background: ReadonlyArray<{ actor: string; error: unknown; step: string }>;
  readonly writers: KeyWriterRegistry;
  readonly token: string;
  readonly switches: number;
  readonly preemptions: number;
  /**
   * Scrubs every value the `redact` rules replaced from free text and returned values (the step labels are
   * redacted already; an actor may return or throw what it read).
   */
  readonly scrub?: { scrub(text: string): string; scrubValue(value: unknown): unknown };
}

/** Strips ANSI colour codes (Jest matcher messages are coloured). */
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const msg = plain(error.message);
    return error.name && error.name !== 'Error' && !msg.startsWith(error.name) && !(error as { matcherResult?: unknown }).matcherResult ? `${error.name}: ${msg}` : msg;
  }
  return plain(String(error));
}

export function formatReport(input: ReportInput): string {
  const scrub = input.scrub;
  if (scrub) {
    const outcomes: Record<string, ActorOutcome> = {};
    for (const [a, o] of Object.entries(input.outcomes)) outcomes[a] = o && o.ok ? { ...o, value: scrub.scrubValue(o.value) } : o;
    const text = (error: unknown): Error => new Error(scrub.scrub(errorText(error)));
    input = {
      ...input,
      scrub: undefined,
      records: input.records.map((r) => ({ ...r, label: scrub.scrub(r.label), ...(r.fault !== undefined && { fault: scrub.scrub(r.fault) }) })),
      outcomes,
      checkError: input.checkError === undefined ? undefined : text(input.checkError),
      unprovoked: input.unprovoked.map((u) => ({ actor: u.actor, error: text(u.error) })),
      background: input.background.map((b) => ({ ...b, error: text(b.error), step: scrub.scrub(b.step) })),
    };
    return scrub.scrub(formatReport(input));
  }
  const parts: string[] = [input.headline, ''];
  if (input.checkError !== undefined) parts.push('The check failed:', indent(errorText(input.checkError)), '');
  for (const u of input.unprovoked) parts.push(`Actor ${JSON.stringify(u.actor)} failed (no fault was injected into it):`, indent(errorText(u.error)), '');
  for (const b of input.background) parts.push(`A timer callback of ${JSON.stringify(b.actor)} threw (${b.step}):`, indent(formatError(b.error)), '');
  parts.push(
    `Schedule (${input.records.length} steps, ${input.switches} context switch${input.switches === 1 ? '' : 'es'}, ${input.preemptions} preemption${input.preemptions === 1 ? '' : 's'}):`,
    indent(formatTimeline(input.actors, input.records)),
    '',
  );
  const inconsistent = input.writers.inconsistent;
  const entries = input.writers.entries();
  if (inconsistent.length > 0) {
    parts.push('Inconsistent keys and the step that last wrote each:');
    for (const k of inconsistent) {
      const w = input.writers.lastWriter(k);
      parts.push(`  ${k}  ${w ? `step ${w.step}: ${w.label}` : 'not written by any actor (setup or before the race)'}`);
    }
    parts.push('');
  } else if (entries.length > 0) {
    parts.push('Keys written by the actors, and the step that last wrote each:');
    for (const [k, w] of entries) parts.push(`  ${k}  step ${w.step}: ${w.label}`);
    parts.push('');
  }
  parts.push('Outcomes:');
  const pad = Math.max(...input.actors.map((a) => a.length));
  for (const a of input.actors) parts.push(`  ${a.padEnd(pad)}  ${describeOutcome(input.outcomes[a])}`);
  parts.push('', 'Replay exactly this schedule:', `  await replay('${input.token}', scenario)`);
  return parts.join('\n');
}
