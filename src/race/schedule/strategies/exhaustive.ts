/**
 * exhaustive: depth-first over the tree of choices, re-running the scenario from the start for every
 * schedule (stateless model checking). At each decision the actor that ran last is tried first, so the first
 * schedules have few context switches. `preemptionBound` keeps only schedules that switch away from a
 * runnable actor at most that many times (CHESS' iterative context bounding).
 */
import type { Choice, Chooser } from '../run';
import { assertSameDecision, explorationOrder } from './decision';
import type { Explorer } from './index';

interface Node {
  /** The options explored from here, in exploration order. */
  options: Choice[];
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
      while (this.#stack.length > 0 && this.#stack[this.#stack.length - 1]!.index >= this.#stack[this.#stack.length - 1]!.options.length - 1) this.#stack.pop();
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
        let order = explorationOrder(options, ctx.previous);
        const prevRunnable = ctx.previous !== undefined && options.some((o) => o.actor === ctx.previous);
        if (this.#bound !== undefined && prevRunnable && preemptions >= this.#bound) {
          order = order.filter((i) => options[i]!.actor === ctx.previous);
        }
        const explored = order.map((i) => options[i]!);
        let node = this.#stack[ctx.depth];
        if (node) assertSameDecision(ctx.depth, node.options, explored);
        else {
          node = { options: explored, index: 0 };
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
