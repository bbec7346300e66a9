/**
 * `redact` in the race report: a secret written and read by the actors appears nowhere in what a failing
 * race prints (timeline labels with arguments and replies, last writers, outcomes, the check's failure, the
 * replay output), and the marker does. docs/configuration.md#redact.
 */
import { stripVTControlCharacters } from 'node:util';
import {
  defineCache,
  everyInterleaving,
  InvalidRaceScenarioError,
  race,
  RaceFailureError,
  replay,
  type Scenario,
} from '../../src';
import { UserCache } from '../../examples/services/cacheAside';

const SESSION = 'hunter2-session-9f2c';
const EMAIL = 'hunter2@secret.example';

async function failure(p: Promise<unknown>): Promise<RaceFailureError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof RaceFailureError)) throw new Error(`expected a RaceFailureError, got ${String(e)}`);
  return e;
}

/** Everything a failing race prints or hands to Jest, as one text. */
function printed(e: RaceFailureError): string {
  const check = e.checkError instanceof Error ? e.checkError.message : String(e.checkError ?? '');
  const result = (e.checkError as { matcherResult?: { actual?: unknown; expected?: unknown } } | undefined)?.matcherResult;
  return stripVTControlCharacters([e.message, e.stack ?? '', e.report, ...e.steps, check, JSON.stringify(result ?? {})].join('\n'));
}

describe('redact in the race report', () => {
  // A session written with SET ... EX, read back by another actor who returns it; the check then fails
  // with a plain expect that quotes the value.
  const sessions = (redact?: Scenario['redact']): Scenario => ({
    actors: {
      login: async ({ redis }) => {
        await redis.set('session:xyz', SESSION, 'EX', 60);
      },
      peek: async ({ redis }) => redis.get('session:xyz'),
    },
    check: async ({ redis }) => {
      expect(await redis.get('session:xyz')).toBeNull();
    },
    ...(redact !== undefined && { redact }),
  });

  it('a key glob hides the value in SET arguments, GET replies, last writers, outcomes and the check failure', async () => {
    const e = await failure(everyInterleaving(sessions(['session:*'])));
    const text = printed(e);
    expect(text).not.toContain(SESSION);
    expect(text).toContain('[REDACTED]');
    // Still readable: the key, the options and the reply status stay.
    expect(e.steps).toContain('login  redis SET session:xyz [REDACTED] EX 60 -> OK');
    expect(e.report).toMatch(/Keys written by the actors[^\n]*\n\s+session:xyz {2}step \d+: login {2}redis SET session:xyz \[REDACTED\] EX 60 -> OK/);
  });

  it('without redact the same report prints the secret (what the rule changes)', async () => {
    const e = await failure(everyInterleaving(sessions()));
    expect(printed(e)).toContain(SESSION);
  });

  it('a JSON path hides the column in SQL rows, cached JSON, the matcher diff within the report, and the replay output', async () => {
    const userById = defineCache({
      key: 'user:{id}',
      load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
    });
    const scenario: Scenario = {
      setup: ({ db }) => db.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', '${EMAIL}')`),
      actors: {
        reader: ({ redis, db }) => new UserCache(db, redis).getUser(1),
        writer: ({ redis, db }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
      },
      check: async ({ redis, db }) => {
        await expect(redis).toBeConsistentWith(db, [userById]);
      },
      redact: ['$.email'],
    };
    const e = await failure(everyInterleaving(scenario));
    const text = printed(e);
    expect(text).not.toContain(EMAIL);
    expect(e.steps.join('\n')).toContain('"email":"[REDACTED]"'); // the SET of the cached row
    expect(e.steps.join('\n')).toContain("email: '[REDACTED]'"); // the SELECT's row
    expect(e.report).toContain('Inconsistent keys and the step that last wrote each');
    // The other columns still show, on both sides of the diff.
    expect(stripVTControlCharacters(String((e.checkError as Error).message))).toMatch(/"name": "Jerry"[\s\S]*"name": "Tom"|"name": "Tom"[\s\S]*"name": "Jerry"/);

    const again = await failure(replay(e.token, scenario));
    expect(printed(again)).not.toContain(EMAIL);
    expect(printed(again)).toContain('[REDACTED]');
  });

  it('a field rule hides a hash field in HSET and in HGETALL', async () => {
    const e = await failure(
      everyInterleaving({
        actors: {
          writer: async ({ redis }) => {
            await redis.hset('profile:1', 'name', 'Tom', 'token', SESSION);
          },
          reader: async ({ redis }) => redis.hgetall('profile:1'),
        },
        check: () => {
          throw new Error('always fails');
        },
        redact: [{ key: 'profile:*', field: 'token' }],
      }),
    );
    expect(printed(e)).not.toContain(SESSION);
    expect(e.steps).toContain('writer  redis HSET profile:1 name Tom token [REDACTED] -> 2');
  });

  it('race(): the timeline of a manual race', async () => {
    const r = race({ redact: 'session:*' });
    const a = r.actor('a');
    await a.run(async () => {
      await a.redis.set('session:xyz', SESSION);
      await a.redis.get('session:xyz');
    });
    expect(r.timeline()).not.toContain(SESSION);
    expect(r.timeline()).toContain('redis GET session:xyz -> [REDACTED]');
  });

  it('a bad rule is an INVALID_RACE_SCENARIO error naming it', async () => {
    const e = await everyInterleaving({ ...sessions(), redact: ['$.cards['] as never }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InvalidRaceScenarioError);
    expect((e as InvalidRaceScenarioError).code).toBe('INVALID_RACE_SCENARIO');
    expect(() => race({ redact: [{ nope: 1 } as never] })).toThrow(/redact\[0\]\.nope: unknown option\. Known options: key, field, path/);
  });
});
