/**
 * The partial-order-reduced search against brute force, on fake steps (no server): random programs of two and
 * three actors over a small in-memory keyspace, where what an actor writes and which step it takes next depend
 * on what it read. For each program:
 * - soundness: the reduced search reaches exactly the final states (keyspace and every actor's reads) that the
 *   brute-force search reaches;
 * - each trace once: the reduced search's completed schedules are pairwise inequivalent (different Mazurkiewicz
 *   traces) and cover every trace brute force runs.
 */
import fc from 'fast-check';
import { DporExplorer, ScheduleCut } from '../../../src/race/schedule/strategies/dpor';
import { footprintOf } from '../../../src/race/schedule/footprint';
import type { Choice, Chooser, ScheduleResult } from '../../../src/race/schedule/run';
import type { StepInfo } from '../../../src/race/step';
import { DfsExplorer, type Explorer } from '../../../src/race/schedule/strategies';

type Op =
  | { readonly op: 'get' | 'del'; readonly key: string }
  | { readonly op: 'set'; readonly key: string }
  /** GET key; on a miss SET it (cache-aside's fill), else GET `other`. */
  | { readonly op: 'fill'; readonly key: string; readonly other: string };

interface Step {
  readonly info: StepInfo;
  run(store: Map<string, string>): string | null;
}

function stepInfo(actor: string, command: 'GET' | 'SET' | 'DEL', key: string, value?: string): StepInfo {
  const write = command !== 'GET';
  return { actor, kind: 'redis', command, args: value === undefined ? [key] : [key, value], keys: [key], writes: write ? [key] : [], description: `redis ${command} ${key}` };
}

/** An actor as a generator of steps: each step's result comes back in, so later steps may depend on it. */
function* actorSteps(actor: string, ops: readonly Op[], reads: Array<string | null>): Generator<Step, void, string | null> {
  let last: string | null = null;
  for (const [i, o] of ops.entries()) {
    const value = () => `${actor}${i}(${last ?? '-'})`;
    if (o.op === 'get' || o.op === 'fill') {
      last = yield { info: stepInfo(actor, 'GET', o.key), run: (s) => s.get(o.key) ?? null };
      reads.push(last);
      if (o.op === 'fill') {
        if (last === null) {
          const v = value();
          yield { info: stepInfo(actor, 'SET', o.key, v), run: (s) => (s.set(o.key, v), 'OK') };
        } else {
          last = yield { info: stepInfo(actor, 'GET', o.other), run: (s) => s.get(o.other) ?? null };
          reads.push(last);
        }
      }
    } else if (o.op === 'set') {
      const v = value();
      yield { info: stepInfo(actor, 'SET', o.key, v), run: (s) => (s.set(o.key, v), 'OK') };
    } else {
      yield { info: stepInfo(actor, 'DEL', o.key), run: (s) => String(Number(s.delete(o.key))) };
    }
  }
}

interface Run {
  /** Keyspace and reads at the end. */
  final: string;
  /** The schedule as events (actor and its step number, with the footprint) for trace comparison. */
  events: Array<{ actor: string; n: number; info: StepInfo }>;
}

function simulate(programs: Record<string, readonly Op[]>, chooser: Chooser): Run {
  const store = new Map<string, string>();
  let seq = 0;
  const actors = Object.entries(programs).map(([name, ops], index) => {
    const reads: Array<string | null> = [];
    const gen = actorSteps(name, ops, reads);
    const first = gen.next(null);
    return { name, index, gen, reads, pending: first.done ? undefined : { step: first.value, issued: seq++ }, count: 0 };
  });
  const events: Run['events'] = [];
  let previous: string | undefined;
  for (let depth = 0; ; depth++) {
    const live = actors.filter((a) => a.pending);
    if (live.length === 0) break;
    const options: Choice[] = live.map((a) => ({
      actor: a.name,
      actorIndex: a.index,
      ordinal: 0,
      description: a.pending!.step.info.description,
      shape: `redis ${a.pending!.step.info.command}`,
      footprint: footprintOf(a.pending!.step.info),
      issued: a.pending!.issued,
    }));
    const chosen = live[chooser.choose(options, { depth, previous })]!;
    const step = chosen.pending!.step;
    events.push({ actor: chosen.name, n: chosen.count++, info: step.info });
    const next = chosen.gen.next(step.run(store));
    chosen.pending = next.done ? undefined : { step: next.value, issued: seq++ };
    previous = chosen.name;
  }
  const keys = [...store.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return { final: JSON.stringify({ keys, reads: actors.map((a) => a.reads) }), events };
}

/** Lexicographic normal form of the schedule's trace: equal exactly for equivalent schedules. */
function traceOf(events: Run['events']): string {
  const indep = (a: Run['events'][number], b: Run['events'][number]) => a.actor !== b.actor && !(a.info.writes.some((k) => b.info.keys.includes(k)) || b.info.writes.some((k) => a.info.keys.includes(k)));
  const remaining = events.map((e, i) => ({ e, i }));
  const out: string[] = [];
  while (remaining.length > 0) {
    // Minimal events: no earlier remaining event they depend on.
    const minimal = remaining.filter((x, pos) => remaining.slice(0, pos).every((y) => indep(y.e, x.e)));
    minimal.sort((a, b) => (a.e.actor < b.e.actor ? -1 : a.e.actor > b.e.actor ? 1 : 0));
    const pick = minimal[0]!;
    out.push(`${pick.e.actor}${pick.e.n}`);
    remaining.splice(remaining.indexOf(pick), 1);
  }
  return out.join(' ');
}

const RESULT = {} as ScheduleResult;

function explore(explorer: Explorer, programs: Record<string, readonly Op[]>): { runs: number; finals: Set<string>; traces: string[] } {
  const finals = new Set<string>();
  const traces: string[] = [];
  let runs = 0;
  for (let chooser = explorer.next(); chooser; chooser = explorer.next()) {
    runs++;
    let run: Run;
    try {
      run = simulate(programs, chooser);
    } catch (error) {
      if (error instanceof ScheduleCut) continue;
      throw error;
    }
    finals.add(run.final);
    traces.push(traceOf(run.events));
    explorer.done(RESULT);
  }
  return { runs, finals, traces };
}

const opArb = fc.oneof(
  fc.record({ op: fc.constantFrom('get' as const, 'del' as const, 'set' as const), key: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ op: fc.constant('fill' as const), key: fc.constantFrom('a', 'b'), other: fc.constantFrom('a', 'b', 'c') }),
);
const programsArb = (actors: number, maxSteps: number) =>
  fc.array(fc.array(opArb, { minLength: 1, maxLength: maxSteps }), { minLength: actors, maxLength: actors }).map((list) => Object.fromEntries(list.map((ops, i) => [`p${i}`, ops])));

describe('the reduced search against brute force (fake steps)', () => {
  it('the classic race: reader fill (GET, SET) vs writer update + delete, 6 orders, every final state found', () => {
    const programs: Record<string, Op[]> = {
      reader: [{ op: 'fill', key: 'user', other: 'user' }],
      writer: [{ op: 'set', key: 'db' }, { op: 'del', key: 'user' }],
    };
    const brute = explore(new DfsExplorer(), programs);
    const reduced = new DporExplorer();
    const dpor = explore(reduced, programs);
    expect(brute.runs).toBe(6);
    expect(dpor.finals).toEqual(brute.finals);
    expect(dpor.runs).toBeLessThan(brute.runs);
    expect(new Set(dpor.traces).size).toBe(dpor.traces.length);
    expect(new Set(dpor.traces)).toEqual(new Set(brute.traces));
    expect(reduced.complete).toBe(true);
    expect(reduced.classes).toBe(dpor.traces.length);
  });

  it('steps on different keys run in one order only', () => {
    const programs: Record<string, Op[]> = {
      p0: [{ op: 'set', key: 'a' }, { op: 'get', key: 'a' }],
      p1: [{ op: 'set', key: 'b' }, { op: 'get', key: 'b' }],
      p2: [{ op: 'set', key: 'c' }],
    };
    const brute = explore(new DfsExplorer(), programs);
    const dpor = explore(new DporExplorer(), programs);
    expect(brute.runs).toBe(30);
    expect(dpor.traces).toHaveLength(1);
    expect(dpor.finals).toEqual(brute.finals);
  });

  it.each([
    [2, 4, 300],
    [3, 2, 60],
  ])('random programs of %i actors up to %i ops each: same final states, each trace exactly once', (actors, maxSteps, numRuns) => {
    fc.assert(
      fc.property(programsArb(actors, maxSteps), (programs) => {
        const full = new DfsExplorer();
        const brute = explore(full, programs);
        expect(full.complete).toBe(true);
        const dpor = explore(new DporExplorer(), programs);
        expect(dpor.finals).toEqual(brute.finals);
        expect(new Set(dpor.traces)).toEqual(new Set(brute.traces));
        expect(dpor.traces.length).toBe(new Set(dpor.traces).size);
      }),
      { numRuns, seed: 20261204 },
    );
  });
});
