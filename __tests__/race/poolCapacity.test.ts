import { Pool } from 'pg';
import { everyInterleaving, InvalidRaceScenarioError } from '../../src';

describe('a pool too small for the race', () => {
  it('is refused at once (INVALID_RACE_SCENARIO naming the size to give it), not left waiting for ever', async () => {
    const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 2 });
    try {
      const e = await everyInterleaving({
        db: pool,
        resetDb: (db) => db.query('SELECT 1'),
        actors: { a: ({ db }) => db.query('SELECT 1'), b: ({ db }) => db.query('SELECT 2') },
      }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(InvalidRaceScenarioError);
      expect((e as Error).message).toContain('Invalid race option db: the pool opens at most 2 connections: each of the 2 actors takes one for the whole race');
      expect((e as Error).message).toContain('Give it at least 3 (node-postgres: max; mysql2: connectionLimit)');
    } finally {
      await pool.end();
    }
  });
});
