import type { Chooser, ScheduleResult } from './run';
import { DfsExplorer } from './strategies/exhaustive';

/**
 * Shrinking: finds a failing schedule with fewer context switches, by iterative preemption bounding (an
 * exhaustive search with bound 0, 1, ... below the failing schedule's preemptions) within a budget of
 * schedules. `run` runs one schedule; `beforeEach` may throw to stop (the test was abandoned).
 */
export async function shrink<V extends { readonly failed: boolean; readonly result: ScheduleResult }>(
  run: (chooser: Chooser) => Promise<V>,
  failing: V,
  budget: number,
  beforeEach: () => void = () => {},
): Promise<{ verdict: V; runs: number }> {
  let runs = 0;
  let best = failing;
  for (let bound = 0; bound < best.result.preemptions && runs < budget; bound++) {
    const explorer = new DfsExplorer({ preemptionBound: bound, maxSchedules: budget - runs });
    for (let chooser = explorer.next(); chooser; chooser = explorer.next()) {
      beforeEach();
      runs++;
      const v = await run(chooser);
      if (v.failed && (v.result.preemptions < best.result.preemptions || (v.result.preemptions === best.result.preemptions && v.result.switches < best.result.switches))) {
        best = v;
        break;
      }
    }
    if (best !== failing) break;
  }
  return { verdict: best, runs };
}
