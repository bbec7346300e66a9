/**
 * The partial-order-reduced exhaustive search: every order of the actors' steps up to swapping steps that commute
 * (see ../footprint.ts), each distinct order (Mazurkiewicz trace) completed once.
 *
 * Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal dynamic partial order reduction",
 * POPL 2014, Algorithm 1), run statelessly like the brute-force search: every schedule re-runs the scenario from
 * its starting state, replaying a prefix of choices and then exploring.
 * - After each schedule, every race in it (two dependent steps of different actors, not ordered by anything in
 *   between) asks for the reversed order: the steps that could start that reversal (the "initials" of the steps
 *   after the first that do not depend on it, then the second) are looked up where the first ran, and one of them
 *   is added to that point's backtrack set unless one already is.
 * - Sleep sets: an order whose first step was already explored from the same point, and that commutes with
 *   everything run since, is not started again. A schedule whose every next step sleeps only repeats orders
 *   already covered: it is cut short (ScheduleCut) and not counted as a class.
 * Sleep sets make every completed schedule a different trace, so `classes` counts the traces covered.
 *
 * Happens-before between steps: two steps of one actor when the second was issued after the first ran (steps an
 * actor has in flight at once are not ordered), and two dependent steps of different actors.
 *
 * Timeouts (virtual time: offered only when no other step can run) break the algorithm's assumption that a pending
 * step stays pending until it runs: every option of a point where timeouts are offered is explored.
 */
import { dependent } from '../footprint';
import type { Choice, Chooser, DecisionContext, ScheduleResult } from '../run';
import type { TokenChoice } from '../token';
import { assertSameDecision, explorationOrder } from './decision';
import type { Explorer } from './index';

/** Thrown by the chooser: everything this schedule could still do repeats orders already explored. */
export class ScheduleCut extends Error {
  constructor() {
    super('schedule cut: its continuations are covered by schedules already explored');
  }
}

interface Node {
  /** The options at this point, in exploration order (the previous actor's first). */
  readonly options: readonly Choice[];
  /** Index into options of the step taken in the current schedule. */
  chosen: number;
  /** Options (by index) explored from here, the current one included. */
  readonly done: Set<number>;
  /** Options (by index) that must be explored from here. */
  readonly backtrack: Set<number>;
  /** Steps (by `issued`) asleep on arrival: explored from an earlier point and commuting with all since. */
  readonly sleep: Map<number, Choice>;
}

/** The most orders kept for trace checks per search. */
export const MAX_SIBLINGS = 64;

const isTimeout = (c: Choice) => c.footprint.store === 'timer' && c.footprint.timeout;

const sameStep = (a: Choice, b: Choice) => a.issued === b.issued && a.actor === b.actor && a.shape === b.shape;

export class DporExplorer implements Explorer {
  readonly name: string;
  readonly #stack: Node[] = [];
  readonly #max: number;
  #started = false;
  #finished = false;
  #exhausted = false;
  #schedules = 0;
  /** Completed schedules: each a different trace. */
  classes = 0;
  /**
   * One order per completed schedule that the reduction holds equivalent to it: two adjacent steps of different
   * actors, both pending at that point and commuting by their footprints, swapped (a different pair each time). The
   * search runs them after it passes, to test what the reduction assumes (that actors share state only through
   * Redis and the database): see trace checks in ../../explore.ts.
   */
  readonly siblings: TokenChoice[][] = [];

  constructor(options: { maxSchedules?: number } = {}) {
    this.#max = options.maxSchedules ?? 100_000;
    this.name = 'exhaustive (partial-order reduced)';
  }

  get complete(): boolean {
    return this.#exhausted;
  }

  next(): Chooser | undefined {
    if (this.#finished) return undefined;
    if (this.#schedules >= this.#max) {
      this.#finished = true;
      return undefined;
    }
    if (this.#started && !this.#advance()) {
      this.#finished = true;
      this.#exhausted = true;
      return undefined;
    }
    this.#started = true;
    this.#schedules++;
    return { choose: (options, ctx) => this.#choose(options, ctx) };
  }

  done(result?: ScheduleResult): void {
    this.classes++;
    if (result) this.#noteSibling(result);
    this.#analyse();
  }

  #noteSibling(result: ScheduleResult): void {
    const nodes = this.#stack;
    const events = nodes.map((n) => n.options[n.chosen]!);
    if (!Array.isArray(result.choices) || events.length !== result.choices.length) return;
    const swappable: Array<{ i: number; second: Choice }> = [];
    for (let i = 0; i + 1 < events.length; i++) {
      const first = events[i]!;
      const next = events[i + 1]!;
      if (first.actor === next.actor || dependent(first.footprint, next.footprint)) continue;
      // The second must have been pending where the first ran: then either could have gone first.
      const second = nodes[i]!.options.find((o) => sameStep(o, next));
      if (second) swappable.push({ i, second });
    }
    if (swappable.length === 0) return;
    const { i, second } = swappable[(this.classes - 1) % swappable.length]!;
    const first = events[i]!;
    const choices = result.choices.map((c) => ({ actor: c.actor, ordinal: c.ordinal }));
    // Neither step changes what the other actor has pending, so each keeps its ordinal among its actor's steps.
    choices.splice(i, 2, { actor: second.actor, ordinal: second.ordinal }, { actor: first.actor, ordinal: first.ordinal });
    // At most MAX_SIBLINGS kept, spread over every class (reservoir sampling, seeded: the same ones every run).
    this.#offered++;
    if (this.siblings.length < MAX_SIBLINGS) {
      this.siblings.push(choices);
      return;
    }
    this.#seed = (Math.imul(this.#seed, 1103515245) + 12345) >>> 0;
    const slot = this.#seed % this.#offered;
    if (slot < MAX_SIBLINGS) this.siblings[slot] = choices;
  }

  #offered = 0;
  #seed = 20261204;

  /** Moves to the deepest point with a backtrack option neither explored nor asleep; false when none is left. */
  #advance(): boolean {
    while (this.#stack.length > 0) {
      const top = this.#stack[this.#stack.length - 1]!;
      const next = top.options.findIndex((o, i) => top.backtrack.has(i) && !top.done.has(i) && !top.sleep.has(o.issued));
      if (next >= 0) {
        top.chosen = next;
        top.done.add(next);
        return true;
      }
      this.#stack.pop();
    }
    return false;
  }

  #choose(raw: readonly Choice[], ctx: DecisionContext): number {
    const options = explorationOrder(raw, ctx.previous).map((i) => raw[i]!);
    const at = (choice: Choice) => raw.indexOf(choice);
    const replayed = this.#stack[ctx.depth];
    if (replayed) {
      assertSameDecision(ctx.depth, replayed.options, options);
      return at(options[replayed.chosen]!);
    }
    // A new point: what sleeps here, then the first option that does not.
    const sleep = new Map<number, Choice>();
    const parent = this.#stack[ctx.depth - 1];
    if (parent) {
      const taken = parent.options[parent.chosen]!;
      const candidates = [...parent.sleep.values(), ...[...parent.done].filter((i) => i !== parent.chosen).map((i) => parent.options[i]!)];
      // Both were pending at the parent, so neither waits for the other: only their footprints order them.
      for (const q of candidates) {
        if (dependent(q.footprint, taken.footprint)) continue;
        const here = options.find((o) => sameStep(o, q));
        if (here) sleep.set(here.issued, here);
      }
    }
    const chosen = options.findIndex((o) => !sleep.has(o.issued));
    if (chosen < 0) {
      this.#analyse();
      throw new ScheduleCut();
    }
    // Timeouts (virtual time) are offered only when nothing else can run, so a step can disable one: the race
    // analysis, which assumes a pending step stays pending until it runs, cannot reverse them. Where timeouts are
    // offered, every one of them is explored.
    const backtrack = options.some(isTimeout) ? new Set(options.map((_, i) => i)) : new Set([chosen]);
    this.#stack.push({ options, chosen, done: new Set([chosen]), backtrack, sleep });
    return at(options[chosen]!);
  }

  /** Adds backtrack points for every race in the steps run so far (the first `length` points of the stack). */
  #analyse(): void {
    const nodes = this.#stack;
    const events = nodes.map((n) => n.options[n.chosen]!);
    const n = events.length;
    // One actor's steps are in program order when the second was issued after the first ran (it was not among
    // the options where the first ran); steps it had in flight at once are ordered only by their footprints.
    const programOrder = (a: number, b: number) => events[a]!.actor === events[b]!.actor && !nodes[a]!.options.some((o) => sameStep(o, events[b]!));
    // direct(a, b), a < b: b cannot move before a.
    const direct = (a: number, b: number) => programOrder(a, b) || dependent(events[a]!.footprint, events[b]!.footprint);
    const hb: boolean[][] = events.map(() => new Array<boolean>(n).fill(false));
    for (let b = 0; b < n; b++) {
      for (let a = b - 1; a >= 0; a--) {
        if (direct(a, b)) {
          hb[a]![b] = true;
          continue;
        }
        for (let k = a + 1; k < b; k++) {
          if (hb[a]![k] && direct(k, b)) {
            hb[a]![b] = true;
            break;
          }
        }
      }
    }
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < j; i++) {
        if (programOrder(i, j) || !dependent(events[i]!.footprint, events[j]!.footprint)) continue;
        let ordered = false;
        for (let k = i + 1; k < j && !ordered; k++) ordered = hb[i]![k]! && hb[k]![j]!;
        if (ordered) continue;
        this.#reverse(nodes[i]!, i, j, events, hb);
      }
    }
  }

  /** Race i ⋖ j: make sure some order starting the reversal is explored from point i. */
  #reverse(node: Node, i: number, j: number, events: readonly Choice[], hb: boolean[][]): void {
    const v: number[] = [];
    for (let k = i + 1; k < j; k++) if (!hb[i]![k]) v.push(k);
    v.push(j);
    const initials = v.filter((e, idx) => !v.slice(0, idx).some((p) => hb[p]![e]));
    const indexes = new Set<number>();
    for (const e of initials) {
      const idx = node.options.findIndex((o) => sameStep(o, events[e]!));
      if (idx >= 0) indexes.add(idx);
    }
    if (indexes.size === 0) {
      // None of them could start here (an actor blocked on another, in-process): explore every option.
      node.options.forEach((_, idx) => node.backtrack.add(idx));
      return;
    }
    for (const idx of indexes) if (node.backtrack.has(idx)) return;
    const own = [...indexes].find((idx) => node.options[idx]!.actor === events[j]!.actor);
    node.backtrack.add(own ?? [...indexes][0]!);
  }
}
