/**
 * Fake steps for the scheduler core: actors that issue made-up StepRequests (no Redis, no database), run by
 * ScheduleRun under an explorer exactly as everyInterleaving runs real ones. A fake step reads and writes an
 * in-memory map, so a schedule's outcome depends on its order.
 */
import { ActorLink } from '../../../src/race/instrument/actorLink';
import { ResourceTracker } from '../../../src/race/instrument/resourceTracker';
import { ScheduleRun, type FaultRule, type ScheduleResult } from '../../../src/race/schedule/run';
import type { Explorer } from '../../../src/race/schedule/strategies';
import type { StepInfo, StepRequest } from '../../../src/race/step';

/** `GET k` reads k, `SET k v` writes v to k, `INCR k` adds one. */
export type FakeStep = string;

export function fakeRequest(actor: string, step: FakeStep, store: Map<string, unknown>): StepRequest {
  const [command, key = '', value] = step.split(' ');
  const writes = command === 'GET' ? [] : [key];
  const info: StepInfo = { actor, kind: 'redis', command: command!, args: [key, ...(value !== undefined ? [value] : [])], keys: [key], writes, description: `redis ${step}` };
  return {
    info,
    execute: async () => {
      if (command === 'GET') return store.get(key) ?? null;
      if (command === 'INCR') {
        const n = Number(store.get(key) ?? 0) + 1;
        store.set(key, n);
        return n;
      }
      store.set(key, value);
      return 'OK';
    },
    describeResult: (outcome) => (outcome.ok ? `-> ${JSON.stringify(outcome.value)}` : '-> !error'),
  };
}

export interface FakeRun {
  readonly results: ScheduleResult[];
  /** Each schedule as the sequence of actors that ran: `a,b,a`. */
  readonly orders: string[];
  /** The store after each schedule. */
  readonly stores: Array<Map<string, unknown>>;
}

/**
 * Runs every schedule `explorer` asks for. `actors` maps a name to its steps (issued one after another), or to
 * a function of the run number giving them (to make a scenario that differs between runs).
 */
export async function runFake(
  actors: Record<string, readonly FakeStep[] | ((run: number) => readonly FakeStep[])>,
  explorer: Explorer,
  options: { faults?: FaultRule[] } = {},
): Promise<FakeRun> {
  const names = Object.keys(actors);
  const links = names.map((n, i) => new ActorLink(n, i));
  const tracker = new ResourceTracker();
  tracker.watch(links);
  const out: FakeRun = { results: [], orders: [], stores: [] };
  try {
    let run = 0;
    for (let chooser = explorer.next(); chooser; chooser = explorer.next(), run++) {
      const store = new Map<string, unknown>();
      const schedule = new ScheduleRun(links, { tracker, faults: options.faults ?? [], stallTimeoutMs: 5000 });
      const starts = links.map((link) => {
        const spec = actors[link.name]!;
        const steps = typeof spec === 'function' ? spec(run) : spec;
        return {
          link,
          run: async () => {
            const seen: unknown[] = [];
            for (const s of steps) seen.push(await link.issue(fakeRequest(link.name, s, store)));
            return seen;
          },
        };
      });
      tracker.clear();
      const result = await schedule.run(starts, chooser);
      explorer.done(result);
      out.results.push(result);
      out.orders.push(result.choices.map((c) => c.actor).join(','));
      out.stores.push(store);
    }
  } finally {
    tracker.stop();
  }
  return out;
}

/** Every interleaving of the actors' step counts, as `a,b,a` strings, with its preemption count. */
export function allInterleavings(counts: Record<string, number>): Array<{ order: string; preemptions: number }> {
  const names = Object.keys(counts);
  const out: Array<{ order: string; preemptions: number }> = [];
  const left = { ...counts };
  const walk = (prefix: string[], prev: string | undefined, preemptions: number) => {
    if (names.every((n) => left[n] === 0)) return void out.push({ order: prefix.join(','), preemptions });
    for (const n of names) {
      if (left[n] === 0) continue;
      left[n]!--;
      const preempted = prev !== undefined && prev !== n && left[prev]! > 0 ? 1 : 0;
      walk([...prefix, n], n, preemptions + preempted);
      left[n]!++;
    }
  };
  walk([], undefined, 0);
  return out;
}
