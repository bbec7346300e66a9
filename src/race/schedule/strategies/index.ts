/**
 * Exploration strategies: each hands the scheduler one `Chooser` per schedule, and learns from the result.
 * One file each (exhaustive.ts, random.ts, pct.ts, replay.ts); this file holds the one table that names them:
 * a strategy's option keys, how its options are checked, and how it is built. A new strategy is a file and
 * a row of STRATEGIES.
 */
import { closestWord, findUnknownKey, optionKeys } from '../../../optionKeys';
import type { Chooser, ScheduleResult } from '../run';
import { DfsExplorer } from './exhaustive';
import { PctExplorer } from './pct';
import { RandomExplorer } from './random';

export { DfsExplorer } from './exhaustive';
export { PctExplorer } from './pct';
export { prng, RandomExplorer } from './random';
export { ReplayExplorer } from './replay';

export type Strategy =
  | 'exhaustive'
  | 'random'
  | 'pct'
  | {
      readonly kind: 'exhaustive';
      /** Only schedules with at most this many preemptions (switching away from an actor that could go on). */
      readonly preemptionBound?: number;
      /** Stop after this many schedules (the summary then says `complete: false`). Default 100 000. */
      readonly maxSchedules?: number;
    }
  | {
      readonly kind: 'random';
      /** Default 1. */
      readonly seed?: number;
      /** Schedules to run. Default 100. */
      readonly runs?: number;
    }
  | {
      readonly kind: 'pct';
      /** Default 1. */
      readonly seed?: number;
      /** Schedules to run. Default 100. */
      readonly runs?: number;
      /** The bug depth to aim for: `depth - 1` priority change points per run. Default 3. */
      readonly depth?: number;
    };

export interface Explorer {
  /** The chooser for the next schedule, or undefined when the strategy is done. */
  next(): Chooser | undefined;
  /** Feedback after each schedule. */
  done(result: ScheduleResult): void;
  /** True when every schedule of the space (within the bound) was run. */
  readonly complete: boolean;
  readonly name: string;
}

type StrategyObject = Extract<Strategy, object>;
type StrategyOf<K extends StrategyObject['kind']> = Extract<StrategyObject, { kind: K }>;

interface StrategyRow<K extends StrategyObject['kind']> {
  /** The keys its object form takes (the type keeps them complete). */
  readonly keys: readonly string[];
  /** Builds the explorer; `{}`-like defaults for the string form. */
  make(options: Partial<StrategyOf<K>>): Explorer;
}

/** Every strategy: its name, the keys of its object form, and how it is built (with its defaults). */
const STRATEGIES: { readonly [K in StrategyObject['kind']]: StrategyRow<K> } = {
  exhaustive: {
    keys: optionKeys<StrategyOf<'exhaustive'>>({ kind: true, preemptionBound: true, maxSchedules: true }),
    make: (s) => new DfsExplorer(s),
  },
  random: {
    keys: optionKeys<StrategyOf<'random'>>({ kind: true, seed: true, runs: true }),
    make: (s) => new RandomExplorer(s.seed ?? 1, s.runs ?? 100),
  },
  pct: {
    keys: optionKeys<StrategyOf<'pct'>>({ kind: true, seed: true, runs: true, depth: true }),
    make: (s) => new PctExplorer(s.seed ?? 1, s.runs ?? 100, s.depth ?? 3),
  },
};

/** What each numeric option of any strategy must be, as the error names it. */
const OPTION_CHECKS: Record<string, { readonly ok: (v: unknown) => boolean; readonly want: string }> = {
  seed: { ok: (v) => Number.isInteger(v), want: 'an integer' },
  runs: { ok: (v) => Number.isInteger(v) && (v as number) > 0, want: 'a positive integer' },
  depth: { ok: (v) => Number.isInteger(v) && (v as number) > 0, want: 'a positive integer' },
  maxSchedules: { ok: (v) => Number.isInteger(v) && (v as number) > 0, want: 'a positive integer' },
  preemptionBound: { ok: (v) => Number.isInteger(v) && (v as number) >= 0, want: 'a non-negative integer' },
};

const isKind = (v: unknown): v is StrategyObject['kind'] => typeof v === 'string' && Object.hasOwn(STRATEGIES, v);

/**
 * Checks a scenario's `strategy`; `invalid(option, problem)` throws (INVALID_RACE_SCENARIO), naming the
 * option (`strategy.runs`) and what it must be.
 */
export function validateStrategy(strategy: unknown, invalid: (option: string, problem: string) => never): void {
  if (strategy === undefined || isKind(strategy)) return;
  const kind = (strategy as { kind?: unknown } | null)?.kind;
  const names = Object.keys(STRATEGIES);
  if (typeof strategy !== 'object' || strategy === null || !isKind(kind)) {
    const close = typeof strategy === 'string' ? closestWord(strategy, names) : undefined;
    invalid('strategy', `${names.map((n) => `'${n}'`).join(', ')}, or { kind: ${names.map((n) => `'${n}'`).join(' | ')}, ... }${close ? `. Did you mean '${close}'?` : ''}`);
  }
  const unknown = findUnknownKey(strategy, STRATEGIES[kind].keys);
  if (unknown) invalid(`strategy.${unknown.key}`, unknown.problem);
  for (const [key, value] of Object.entries(strategy)) {
    const check = OPTION_CHECKS[key];
    if (check && value !== undefined && !check.ok(value)) invalid(`strategy.${key}`, check.want);
  }
}

/** The explorer for a (validated) strategy; default 'exhaustive'. */
export function explorerFor(strategy: Strategy | undefined): Explorer {
  const s = strategy ?? 'exhaustive';
  if (typeof s === 'string') return (STRATEGIES[s] as StrategyRow<typeof s>).make({});
  return (STRATEGIES[s.kind] as StrategyRow<typeof s.kind>).make(s as never);
}
