/**
 * "Who wrote this key?" — the one thing the consistency matcher may ask the race helpers.
 *
 * While a race is active (the checks of `everyInterleaving`/`replay`, and a `race()` until the end of its
 * test), a module-level registry maps every Redis key an actor step wrote to the last such step. The
 * consistency matcher looks keys up through `activeKeyWriters()` and nothing else, so the race helpers stay
 * independent of the matchers (matchers -> this small interface; never the other way).
 *
 * The registry lives on a `Symbol.for` slot of `globalThis`, so two copies of the library in one test file
 * (a symlinked build next to the sources) still see the same race.
 */
import type { RedactRule } from '../../keyspace/redact';
import type { StepRecord } from '../step';

export interface KeyWriter {
  /** The actor whose step wrote the key. */
  readonly actor: string;
  /** The step's position in the schedule (1-based), as printed in the timeline. */
  readonly step: number;
  /** The step's command: `SET`, `EVALSHA`, `MULTI`, ... */
  readonly command: string;
  /** `reader  redis SET user:1 {"id":1,"name":"Tom"} -> OK` */
  readonly label: string;
}

export interface KeyWriterLookup {
  /**
   * The last step of the active race that wrote `key`, or undefined when no actor step wrote it (it was
   * written by the scenario's setup, or before the race). Asking records nothing.
   */
  lastWriter(key: string | Buffer): KeyWriter | undefined;
  /**
   * Tells the race that `key` is inconsistent: the race report lists it, with its last writer, under
   * "Inconsistent keys". A matcher calls it for each key it reports.
   */
  reportInconsistent(key: string | Buffer): void;
}

const SLOT = Symbol.for('jest-cache-consistency.race.keyWriters');
type Slot = { [SLOT]?: KeyWriterRegistry };

/** The active race's lookup, or undefined when no race is active. */
export function activeKeyWriters(): KeyWriterLookup | undefined {
  return (globalThis as Slot)[SLOT];
}

function keyText(key: string | Buffer): string {
  return typeof key === 'string' ? key : key.toString('utf8');
}

export class KeyWriterRegistry implements KeyWriterLookup {
  readonly #last = new Map<string, KeyWriter>();
  /** Keys reported inconsistent (reportInconsistent), in first-reported order. */
  readonly inconsistent: string[] = [];

  /** The race's `redact` rules: the consistency matcher applies them to a failure this race reports. */
  readonly redact: readonly RedactRule[];

  constructor(records: readonly StepRecord[] = [], redact: readonly RedactRule[] = []) {
    this.redact = redact;
    for (const r of records) this.note(r);
  }

  note(record: StepRecord): void {
    if (!record.outcome.ok && !record.fault) return;
    if (record.fault && record.fault.startsWith('before')) return; // never sent: wrote nothing
    for (const key of record.writes) {
      this.#last.set(key, { actor: record.actor, step: record.index, command: record.command, label: `${record.actor}  ${record.label}` });
    }
  }

  lastWriter(key: string | Buffer): KeyWriter | undefined {
    return this.#last.get(keyText(key));
  }

  reportInconsistent(key: string | Buffer): void {
    const k = keyText(key);
    if (!this.inconsistent.includes(k)) this.inconsistent.push(k);
  }

  /** Every written key and its last writer, sorted by key. */
  entries(): Array<[string, KeyWriter]> {
    return [...this.#last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  activate(): void {
    (globalThis as Slot)[SLOT] = this;
  }

  deactivate(): void {
    // Emptied, not deleted: deleting a property of the global object (once per schedule) is a slow path in V8.
    if ((globalThis as Slot)[SLOT] === this) (globalThis as Slot)[SLOT] = undefined;
  }
}
