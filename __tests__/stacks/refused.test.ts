/**
 * Library instances whose connections the race cannot drive yet are refused with a coded error, never run unseen:
 * Knex on a driver other than pg / mysql2, Sequelize on a dialect other than mysql. (Stand-ins with the libraries'
 * shape: the drivers themselves are not installed.)
 */
import { bindToActors, everyInterleaving, InvalidRaceScenarioError, toQueryable } from '../../src';

function knexOn(dialect: string, driverName: string) {
  return Object.assign(() => undefined, {
    raw: async () => ({ rows: [] }),
    client: { dialect, driverName, acquireConnection: async () => ({}), releaseConnection: async () => undefined },
  });
}

function sequelizeOn(dialect: string) {
  return { query: async () => [[], []], getDialect: () => dialect, connectionManager: { getConnection: async () => ({}), releaseConnection: () => undefined } };
}

describe.each([
  ['Knex on sqlite3', knexOn('sqlite3', 'sqlite3'), 'knex'],
  ['Knex on the mysql package', knexOn('mysql', 'mysql'), 'knex'],
  ['Sequelize on postgres', sequelizeOn('postgres'), 'sequelize'],
  ['Sequelize on mariadb (the mariadb package)', sequelizeOn('mariadb'), 'sequelize'],
] as const)('%s', (_, handle, kind) => {
  it('is recognised as what it is, not as a query function or a Queryable', () => {
    expect(toQueryable(handle).kind).toBe(kind);
  });

  it('is refused by bindToActors with INVALID_RACE_SCENARIO', () => {
    expect(() => bindToActors(handle)).toThrow(InvalidRaceScenarioError);
    expect(() => bindToActors(handle)).toThrow(/Knex instance on pg or mysql2, a Sequelize instance on mysql/);
  });

  it('is refused as a race db with INVALID_RACE_SCENARIO', async () => {
    await expect(everyInterleaving({ db: handle as never, resetDb: () => undefined, actors: { a: () => undefined } })).rejects.toMatchObject({ code: 'INVALID_RACE_SCENARIO' });
  });
});
