/**
 * pct: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random actor priorities and
 * `depth - 1` random priority change points; finds a bug of depth d with probability at least 1/(n·k^(d−1))
 * per run (n actors, k steps).
 */
import type { Chooser, ScheduleResult } from '../run';
import type { Explorer } from './index';
import { prng, runSeed } from './random';

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
