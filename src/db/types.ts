/** A row as the database returns it. */
export type Row = Record<string, unknown>;

/**
 * The one small interface every database adapter implements: run a statement, get its rows
 * (an empty array for statements that return none).
 */
export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}
