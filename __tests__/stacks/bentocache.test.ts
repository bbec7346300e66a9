/**
 * Stack: BentoCache 1.6 with its Redis driver, L2 only and L1 (memory) + L2. BentoCache is an ES module only:
 * the race runs in a plain Node process on the built package (`npm run build` first), against this test's
 * redis-server (fixtures/stacks/bentocache-race.mjs says how).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisUrl } from '../../src';

const RUNNER = join(__dirname, '..', 'fixtures', 'stacks', 'bentocache-race.mjs');
// Each test starts one to three Node processes (~0.5 s each when idle): room for a loaded machine.
jest.setTimeout(60_000);

interface Outcome {
  ok: boolean;
  summary?: { schedules: number; complete: boolean; classes?: number; verified?: { schedules: number; states: number } };
  code?: string;
  steps?: string[];
  message?: string;
}

async function run(layers: 'l2' | 'l1l2', variant: 'classic' | 'lease' | 'two-readers' | 'l1-lease' | 'l1-lease-warm' | 'l1-warm-single-delete', reduction: 'dpor' | 'none' | 'verify'): Promise<Outcome> {
  const { stdout } = await promisify(execFile)(process.execPath, [RUNNER, redisUrl(), layers, variant, reduction], { timeout: 60_000 });
  return JSON.parse(stdout) as Outcome;
}

const actorCommand = (step: string) => {
  const [actor, rest] = step.split(/ {2}/);
  return `${actor}:${/^(?:redis|db) (\S+)/.exec(rest ?? '')?.[1] ?? '?'}`;
};

describe('BentoCache, L2 only (Redis)', () => {
  it("the classic race is caught: getOrSet's GETs and SET, delete's UNLINK are the actors' steps", async () => {
    const out = await run('l2', 'classic', 'dpor');
    expect(out).toMatchObject({ ok: false, code: 'RACE_FAILED' });
    // getOrSet reads L2 twice on a miss: before and after taking its in-process lock for the key.
    expect(out.steps!.map(actorCommand)).toEqual(['reader:GET', 'reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:UNLINK', 'reader:SET']);
    expect(out.steps![0]).toBe('reader  redis GET bentocache:user:1 -> null');
    expect(out.steps![5]).toMatch(/^reader {2}redis SET bentocache:user:1 \{"value":\{"id":1,"name":"Tom","email":null\},"\.\.\. PX 3600000 -> OK$/);
    expect(out.message).toContain('bentocache:user:1: stale');
  });

  it('the lease + compare-and-set fill passes every interleaving, and the reduction agrees with brute force', async () => {
    const out = await run('l2', 'lease', 'verify');
    expect(out).toMatchObject({ ok: true, summary: { complete: true, verified: { schedules: expect.any(Number) } } });
  });
});

describe('BentoCache, L1 (memory) + L2 (Redis), one instance shared by the actors', () => {
  it("the L1 is state shared inside the process: reduction 'verify' finds a final state the reduced search misses (RACE_REDUCTION_MISMATCH); 'none' explores them all", async () => {
    const verify = await run('l1l2', 'two-readers', 'verify');
    expect(verify).toMatchObject({ ok: false, code: 'RACE_REDUCTION_MISMATCH' });
    expect(verify.message).toContain('reduction: \'none\'');
    const none = await run('l1l2', 'two-readers', 'none');
    expect(none).toMatchObject({ ok: true, summary: { complete: true } });
    expect(none.summary!.classes).toBeUndefined();
  });

  it("the classic race is caught with reduction 'none'", async () => {
    const out = await run('l1l2', 'classic', 'none');
    expect(out).toMatchObject({ ok: false, code: 'RACE_FAILED' });
    expect(out.steps!.map(actorCommand)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:UNLINK', 'reader:SET']);
    expect(out.message).toMatch(/bentocache:user:1: stale|next read: .*stale/);
  });

  it("the lease + compare-and-set fill with hits read through L1 (and a second delete) passes every interleaving with reduction 'none', from an empty cache and from a warm L2", async () => {
    expect(await run('l1l2', 'l1-lease', 'none')).toMatchObject({ ok: true, summary: { complete: true } });
    expect(await run('l1l2', 'l1-lease-warm', 'none')).toMatchObject({ ok: true, summary: { complete: true } });
  });

  it("with a single bento.delete(), a read between its L1 clear and its UNLINK leaves the old row in L1: caught with 'none', and by the default reduced search's trace check", async () => {
    const none = await run('l1l2', 'l1-warm-single-delete', 'none');
    expect(none).toMatchObject({ ok: false, code: 'RACE_FAILED' });
    expect(none.steps!.map(actorCommand)).toEqual(['writer:UPDATE', 'reader:GET', 'writer:UNLINK']);
    expect(none.message).toContain('next read: {"id":1,"name":"Tom","email":null} but the row is {"id":1,"name":"Jerry","email":null}: stale');
    // The writer's L1 clear runs right after its UPDATE, which the reduction takes as independent of the reader's
    // GET (SQL and Redis): its search runs one of the two orders, and this race is in the other. The trace check
    // after it (the same class's other order: UPDATE and GET swapped) finds it.
    const reduced = await run('l1l2', 'l1-warm-single-delete', 'dpor');
    expect(reduced).toMatchObject({ ok: false, code: 'RACE_FAILED' });
    expect(reduced.message).toContain('an order it held equivalent to one it ran');
    expect(reduced.steps!.map(actorCommand)).toEqual(['writer:UPDATE', 'reader:GET', 'writer:UNLINK']);
    // reduction: 'verify' tells: brute force fails where the reduced search passed.
    const verify = await run('l1l2', 'l1-warm-single-delete', 'verify');
    expect(verify).toMatchObject({ ok: false, code: 'RACE_REDUCTION_MISMATCH' });
    expect(verify.message).toContain('the brute-force search fails (schedule r1:writer,reader,writer) but the reduced search passes');
  });
});
