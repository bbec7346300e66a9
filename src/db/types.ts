/** A row as the database returns it. */
export type Row = Record<string, unknown>;

/**
 * The one small interface every database adapter implements: run a statement, get its rows
 * (an empty array for statements that return none).
 */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

/** What every "not a database handle" message lists. Here, not in toQueryable: the entry point exports it eagerly. */
export const ACCEPTED_DATABASE_HANDLES =
  'testDb(), a pg-mem database (newDb()), a node-postgres Pool or Client, a mysql2 pool or connection ' +
  '(callback or promise API), a Knex or Sequelize instance, a postgres.js sql, a Queryable ({ query(sql, params) => rows }), or a function (sql, params) => rows';
