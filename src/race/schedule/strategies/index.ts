/**
 * Exploration strategies: each hands the scheduler one `Chooser` per schedule, and learns from the result.
 * One file each (exhaustive.ts, random.ts, pct.ts, replay.ts); this file holds the one table that names them:
 * a strategy's option keys, how its options are checked, and how it is built. A new strategy is a file and
 * a row of STRATEGIES.
 */
import { closestWord, findUnknownKey, optionKeys } from '../../../optionKeys';
import type { Chooser, ScheduleResult } from '../run';
import { InvalidRaceScenarioError } from '../../../errors';
import { DporExplorer } from './dpor';
import { DfsExplorer } from './exhaustive';
import { PctExplorer } from './pct';
import { RandomExplorer } from './random';

export { DfsExplorer } from './exhaustive';
export { DporExplorer, ScheduleCut } from './dpor';
export { PctExplorer } from './pct';
export { prng, RandomExplorer } from './random';
export { ReplayExplorer } from './replay';

export type Strategy =
  | 'exhaustive'
  | 'random'
  | 'pct'
  | {
      readonly kind: 'exhaustive';
      /**
       * 'dpor' (the default): each order of the steps up to swapping steps that commute, once (docs/race.md#reduction).
       * 'none': every order (brute force). 'verify': both, and fails with RACE_REDUCTION_MISMATCH unless they reach
       * the same final states and verdict. `JEST_CACHE_CONSISTENCY_REDUCTION` in the environment sets the default.
       */
      readonly reduction?: Reduction;
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

export type Reduction = 'dpor' | 'none' | 'verify';
export const REDUCTIONS: readonly Reduction[] = ['dpor', 'none', 'verify'];

/** The reduction an exhaustive search uses: the strategy's, else the environment's, else 'dpor'. */
export function reductionOf(strategy: Strategy | undefined): Reduction | undefined {
  const s = strategy ?? 'exhaustive';
  if (s !== 'exhaustive' && (typeof s !== 'object' || s.kind !== 'exhaustive')) return undefined;
  const own = typeof s === 'object' ? s.reduction : undefined;
  if (own) return own;
  const env = process.env.JEST_CACHE_CONSISTENCY_REDUCTION;
  if (env === undefined || env === '') return 'dpor';
  if ((REDUCTIONS as readonly string[]).includes(env)) return env as Reduction;
  throw new InvalidRaceScenarioError('JEST_CACHE_CONSISTENCY_REDUCTION', `${REDUCTIONS.map((r) => `'${r}'`).join(', ')} (the environment variable is ${JSON.stringify(env)})`);
}

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
  make(options: Partial<StrategyOf<K>>, reduction: Reduction | undefined): Explorer;
}

/** Every strategy: its name, the keys of its object form, and how it is built (with its defaults). */
const STRATEGIES: { readonly [K in StrategyObject['kind']]: StrategyRow<K> } = {
  exhaustive: {
    keys: optionKeys<StrategyOf<'exhaustive'>>({ kind: true, reduction: true, preemptionBound: true, maxSchedules: true }),
    // Reduced unless asked not to, or bounded: bounding and reduction together can lose schedules (Coons,
    // Musuvathi and McKinley, "Bounded partial-order reduction", OOPSLA 2013), so a bounded search stays brute force.
    make: (s, reduction) => (reduction === 'none' || s.preemptionBound !== undefined ? new DfsExplorer(s) : new DporExplorer(s)),
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
  const reduction = (strategy as { reduction?: unknown }).reduction;
  if (reduction !== undefined && !REDUCTIONS.includes(reduction as Reduction)) {
    const close = typeof reduction === 'string' ? closestWord(reduction, REDUCTIONS) : undefined;
    invalid('strategy.reduction', `${REDUCTIONS.map((r) => `'${r}'`).join(', ')}${close ? `. Did you mean '${close}'?` : ''}`);
  }
  for (const [key, value] of Object.entries(strategy)) {
    const check = OPTION_CHECKS[key];
    if (check && value !== undefined && !check.ok(value)) invalid(`strategy.${key}`, check.want);
  }
}

/** The explorer for a (validated) strategy; default 'exhaustive', partial-order reduced. */
export function explorerFor(strategy: Strategy | undefined, reduction = reductionOf(strategy)): Explorer {
  const s = strategy ?? 'exhaustive';
  if (typeof s === 'string') return (STRATEGIES[s] as StrategyRow<typeof s>).make({}, reduction);
  return (STRATEGIES[s.kind] as StrategyRow<typeof s.kind>).make(s as never, reduction);
}
