import { everyInterleaving, InjectedFaultError, RaceFailureError, type ActorOutcome } from '../../src';

describe('faults injected into chosen steps', () => {
  it("'before': the step is never sent and the actor's call rejects; the outcome is marked provoked", async () => {
    const outcomes: Array<Record<string, ActorOutcome>> = [];
    const values: Array<string | null> = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      setup: ({ redis }) => redis.set('k', 'old'),
      faults: [{ actor: 'writer', at: { redis: 'DEL' } }],
      actors: {
        writer: async ({ redis }) => {
          await redis.set('other', '1');
          await redis.del('k');
        },
        reader: ({ redis }) => redis.get('k'),
      },
      check: async ({ redis, outcomes: o, steps }) => {
        outcomes.push(o);
        values.push(await redis.get('k'));
        const del = steps.find((s) => s.command === 'DEL')!;
        expect(del.fault).toMatch(/^before: InjectedFaultError/);
        expect(del.label).toMatch(/-> !InjectedFaultError: .* \(injected, never sent\)$/);
      },
    });
    expect(summary.schedules).toBe(3);
    expect(values).toEqual(['old', 'old', 'old']);
    for (const o of outcomes) {
      expect(o.writer).toMatchObject({ ok: false, provoked: true });
      expect((o.writer as { error: unknown }).error).toBeInstanceOf(InjectedFaultError);
      expect(o.reader).toEqual({ ok: true, value: 'old' });
    }
  });

  it("'after': the step runs on the server and only its reply is lost; nth picks the occurrence", async () => {
    const seen: string[] = [];
    await everyInterleaving({
      faults: [{ actor: 'a', at: { redis: 'SET' }, nth: 2, when: 'after', error: () => new Error('connection reset') }],
      actors: {
        a: async ({ redis }) => {
          await redis.set('x', '1');
          await redis.set('y', '2').catch((e: Error) => `caught ${e.message}`);
        },
      },
      check: async ({ redis, steps }) => {
        seen.push(`${await redis.get('x')} ${await redis.get('y')}`, steps[1]!.label);
      },
    });
    expect(seen).toEqual(['1 2', 'redis SET y 2 -> OK, then !connection reset (injected: reply lost)']);
  });

  it('an error the scenario did not provoke fails the run; the provoked one does not', async () => {
    await expect(
      everyInterleaving({
        faults: [{ actor: 'a', at: { db: 'UPDATE' } }],
        actors: { a: ({ db }) => db.query('UPDATE users SET name = $1 WHERE id = 1', ['x']) },
      }),
    ).resolves.toMatchObject({ schedules: 1 });
    const e = await everyInterleaving({
      faults: [{ actor: 'a', at: { db: 'UPDATE' } }],
      actors: {
        a: ({ db }) => db.query('UPDATE users SET name = $1 WHERE id = 1', ['x']),
        b: ({ db }) => db.query('SELECT nope FROM users'),
      },
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaceFailureError);
    expect((e as Error).message).toContain('Actor "b" failed (no fault was injected into it):');
    expect((e as Error).message).toContain('a  threw InjectedFaultError: [INJECTED_FAULT] Injected fault: db UPDATE users SET name = $1 WHERE id = 1');
  });
});
