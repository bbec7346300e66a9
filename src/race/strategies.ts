/**
 * Exploration strategies: each hands the scheduler one `Chooser` per schedule, and learns from the result.
 *
 * - exhaustive: depth-first over the tree of choices, re-running the scenario from the start for every
 *   schedule (stateless model checking). At each decision the actor that ran last is tried first, so the
 *   first schedules have few context switches. `preemptionBound` keeps only schedules that switch away from
 *   a runnable actor at most that many times (CHESS' iterative context bounding).
 * - random: every decision uniformly at random, `runs` schedules, from `seed`.
 * - pct: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random actor priorities and
 *   `depth - 1` random priority change points; finds a bug of depth d with probability at least
 *   1/(n·k^(d−1)) per run (n actors, k steps).
 * - replay: exactly the choices of a token.
 */
import { InvalidRaceScenarioError, NondeterministicScenarioError, ScheduleReplayMismatchError } from '../errors';
import type { Choice, Chooser, DecisionContext, ScheduleResult } from './schedule';
import { DporExplorer } from './dpor';
import { type TokenChoice } from './token';

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

const key = (c: Choice) => `${c.actorIndex}~${c.ordinal}`;

/** Options in exploration order: the previous actor's steps first, then declaration order. */
function ordered(options: readonly Choice[], ctx: DecisionContext): number[] {
  const idx = options.map((_, i) => i);
  const prev = ctx.previous;
  if (prev === undefined) return idx;
  return [...idx.filter((i) => options[i]!.actor === prev), ...idx.filter((i) => options[i]!.actor !== prev)];
}

interface Node {
  keys: string[];
  descriptions: string[];
  index: number;
}

export class DfsExplorer implements Explorer {
  readonly name: string;
  readonly #stack: Node[] = [];
  readonly #bound: number | undefined;
  readonly #max: number;
  #started = false;
  #finished = false;
  #count = 0;
  #exhausted = false;

  constructor(options: { preemptionBound?: number; maxSchedules?: number } = {}) {
    this.#bound = options.preemptionBound;
    this.#max = options.maxSchedules ?? 100_000;
    this.name = `exhaustive${this.#bound !== undefined ? ` (preemption bound ${this.#bound})` : ''}`;
  }

  get complete(): boolean {
    return this.#exhausted;
  }

  next(): Chooser | undefined {
    if (this.#finished) return undefined;
    if (this.#count >= this.#max) {
      this.#finished = true;
      return undefined;
    }
    if (this.#started) {
      while (this.#stack.length > 0 && this.#stack[this.#stack.length - 1]!.index >= this.#stack[this.#stack.length - 1]!.keys.length - 1) this.#stack.pop();
      if (this.#stack.length === 0) {
        this.#finished = true;
        this.#exhausted = true;
        return undefined;
      }
      this.#stack[this.#stack.length - 1]!.index++;
    }
    this.#started = true;
    this.#count++;
    let preemptions = 0;
    return {
      choose: (options, ctx) => {
        let order = ordered(options, ctx);
        const prevRunnable = ctx.previous !== undefined && options.some((o) => o.actor === ctx.previous);
        if (this.#bound !== undefined && prevRunnable && preemptions >= this.#bound) {
          order = order.filter((i) => options[i]!.actor === ctx.previous);
        }
        const keys = order.map((i) => key(options[i]!));
        // Arguments may differ between runs (a random lease token); the steps' shapes may not.
        const descriptions = order.map((i) => `${options[i]!.actor}: ${options[i]!.shape}`);
        let node = this.#stack[ctx.depth];
        if (node) {
          if (node.keys.join() !== keys.join() || node.descriptions.join('\n') !== descriptions.join('\n')) {
            throw new NondeterministicScenarioError(ctx.depth + 1, node.descriptions.join(' | '), descriptions.join(' | '));
          }
        } else {
          node = { keys, descriptions, index: 0 };
          this.#stack.push(node);
        }
        const chosen = order[node.index]!;
        if (prevRunnable && options[chosen]!.actor !== ctx.previous) preemptions++;
        return chosen;
      },
    };
  }

  done(): void {}
}

/** mulberry32: a small, fast, seedable PRNG; the same seed gives the same sequence on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runSeed(seed: number, run: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(run + 1, 0x85ebca77)) >>> 0;
}

export class RandomExplorer implements Explorer {
  readonly name: string;
  readonly complete = false;
  #run = 0;
  constructor(
    readonly seed: number,
    readonly runs: number,
  ) {
    this.name = `random (seed ${seed}, ${runs} runs)`;
  }
  next(): Chooser | undefined {
    if (this.#run >= this.runs) return undefined;
    const rnd = prng(runSeed(this.seed, this.#run++));
    return { choose: (options) => Math.floor(rnd() * options.length) };
  }
  done(): void {}
}

export class PctExplorer implements Explorer {
  readonly name: string;
  readonly complete = false;
  #run = 0;
  #maxSteps = 0;
  constructor(
    readonly seed: number,
    readonly runs: number,
    readonly depth: number,
  ) {
    this.name = `pct (seed ${seed}, ${runs} runs, depth ${depth})`;
  }
  next(): Chooser | undefined {
    if (this.#run >= this.runs) return undefined;
    const rnd = prng(runSeed(this.seed, this.#run++));
    // k: the steps of a schedule; learnt from the runs so far (a first guess before any).
    const k = Math.max(this.#maxSteps, 8);
    const d = Math.max(1, this.depth);
    const priorities = new Map<string, number>();
    const changes: number[] = [];
    while (changes.length < d - 1) {
      const at = 1 + Math.floor(rnd() * k);
      if (!changes.includes(at)) changes.push(at);
    }
    let step = 0;
    return {
      choose: (options) => {
        step++;
        for (const o of options) {
          // Initial priorities: distinct, above every change-point priority, random order.
          if (!priorities.has(o.actor)) priorities.set(o.actor, d + rnd());
        }
        const best = () => {
          let bi = 0;
          for (let i = 1; i < options.length; i++) if (priorities.get(options[i]!.actor)! > priorities.get(options[bi]!.actor)!) bi = i;
          return bi;
        };
        const change = changes.indexOf(step);
        if (change >= 0) priorities.set(options[best()]!.actor, d - 1 - change);
        return best();
      },
    };
  }
  done(result: ScheduleResult): void {
    this.#maxSteps = Math.max(this.#maxSteps, result.records.length);
  }
}

export class ReplayExplorer implements Explorer {
  readonly name = 'replay';
  readonly complete = false;
  #used = false;
  constructor(
    readonly token: string,
    readonly choices: readonly TokenChoice[],
  ) {}
  next(): Chooser | undefined {
    if (this.#used) return undefined;
    this.#used = true;
    return {
      choose: (options, ctx) => {
        const want = this.choices[ctx.depth];
        if (!want) {
          throw new ScheduleReplayMismatchError(this.token, ctx.depth + 1, `the token ends, but steps are still pending (${options.map((o) => `${o.actor}: ${o.description}`).join(' | ')})`);
        }
        const i = options.findIndex((o) => o.actor === want.actor && o.ordinal === want.ordinal);
        if (i < 0) {
          throw new ScheduleReplayMismatchError(
            this.token,
            ctx.depth + 1,
            `the token runs ${want.actor}${want.ordinal ? `~${want.ordinal}` : ''}, but only ${options.map((o) => `${o.actor}${o.ordinal ? `~${o.ordinal}` : ''}`).join(', ')} can run`,
          );
        }
        return i;
      },
    };
  }
  done(result: ScheduleResult): void {
    if (result.choices.length < this.choices.length) {
      throw new ScheduleReplayMismatchError(this.token, result.choices.length + 1, `the schedule ended after ${result.choices.length} steps, the token has ${this.choices.length}`);
    }
  }
}

/**
 * The explorer for a strategy. An exhaustive search is partial-order reduced unless `reduction` is 'none' or a
 * preemption bound is set (bounding and reduction together can lose schedules: Coons, Musuvathi and McKinley,
 * "Bounded partial-order reduction", OOPSLA 2013; the bounded search stays brute force).
 */
export function explorerFor(strategy: Strategy | undefined, reduction = reductionOf(strategy)): Explorer {
  const s = strategy ?? 'exhaustive';
  if (s === 'random') return new RandomExplorer(1, 100);
  if (s === 'pct') return new PctExplorer(1, 100, 3);
  if (s === 'exhaustive' || s.kind === 'exhaustive') {
    const options: { preemptionBound?: number; maxSchedules?: number } = s === 'exhaustive' ? {} : s;
    if (reduction === 'none' || options.preemptionBound !== undefined) return new DfsExplorer(options);
    return new DporExplorer(options);
  }
  if (s.kind === 'random') return new RandomExplorer(s.seed ?? 1, s.runs ?? 100);
  return new PctExplorer(s.seed ?? 1, s.runs ?? 100, s.depth ?? 3);
}
