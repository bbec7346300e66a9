/**
 * exhaustive: depth-first over the tree of choices, re-running the scenario from the start for every
 * schedule (stateless model checking). At each decision the actor that ran last is tried first, so the first
 * schedules have few context switches. `preemptionBound` keeps only schedules that switch away from a
 * runnable actor at most that many times (CHESS' iterative context bounding).
 */
import { NondeterministicScenarioError } from '../../../errors';
import type { Choice, Chooser, DecisionContext } from '../run';
import type { Explorer } from './index';

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
