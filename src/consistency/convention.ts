import type { DatabaseHandle } from '../db/toQueryable';
import type { Row } from '../db/types';
import { CacheLoadError } from '../errors';
import { compiledContract, defineCache, type CompiledContract } from './contract';

/**
 * The default convention, in effect when no contract is registered or passed:
 *
 *   A key `<table>:<id>` holds, as a JSON string, the row `SELECT * FROM <table> WHERE id = <id>`,
 *   for every table of the current schema that has a column named `id`, whose name is a plain identifier
 *   (lowercase on PostgreSQL), and an `<id>` that is a valid value of that column's type (digits for integer
 *   columns, a UUID for uuid columns, anything for text).
 *
 * docs/contracts.md#the-default-convention documents this text exactly.
 */

const INTEGER = /^(smallint|integer|int|bigint|tinyint|mediumint|int2|int4|int8|serial|bigserial|smallserial)$/i;
const DECIMAL = /^(numeric|decimal|real|double precision|double|float|float4|float8)$/i;
const UUID_TYPE = /^uuid$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const LIST = {
  postgres: "SELECT table_name AS t, data_type AS d FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'id'",
  mysql: "SELECT table_name AS t, data_type AS d FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'id'",
} as const;

async function listTables(db: DatabaseHandle): Promise<Row[]> {
  const order = db.dialect === 'mysql' ? (['mysql'] as const) : db.dialect === 'postgres' ? (['postgres'] as const) : (['postgres', 'mysql'] as const);
  let last: unknown;
  for (const dialect of order) {
    try {
      return await db.query(LIST[dialect]);
    } catch (err) {
      last = err;
    }
  }
  throw new CacheLoadError(
    '(default convention)',
    '*',
    `cannot list the tables of ${db.describe()} through information_schema (${(last as Error)?.message ?? String(last)}). ` +
      'Pass contracts (defineCache) instead of relying on the default convention',
    last,
  );
}

function acceptsId(dataType: string): ((params: Record<string, string>) => boolean) | undefined {
  if (INTEGER.test(dataType)) return (p) => /^-?\d{1,19}$/.test(p.id!);
  if (DECIMAL.test(dataType)) return (p) => /^-?\d+(\.\d+)?$/.test(p.id!);
  if (UUID_TYPE.test(dataType)) return (p) => UUID.test(p.id!);
  return undefined;
}

/** The default convention's contracts for this database, one per table with an `id` column, sorted by table. */
export async function conventionContracts(db: DatabaseHandle): Promise<CompiledContract[]> {
  const rows = await listTables(db);
  const ident = db.dialect === 'mysql' ? /^[A-Za-z_][A-Za-z0-9_]*$/ : /^[a-z_][a-z0-9_]*$/;
  const tables = new Map<string, string>();
  for (const row of rows) {
    const table = String(row.t ?? row.T ?? row.TABLE_NAME ?? '');
    const type = String(row.d ?? row.D ?? row.DATA_TYPE ?? '');
    if (ident.test(table) && !tables.has(table)) tables.set(table, type);
  }
  return [...tables.keys()].sort().map((table) => {
    const base = compiledContract(defineCache({ key: `${table}:{id}`, name: `${table}:{id} (default convention)`, table }));
    const accepts = acceptsId(tables.get(table)!);
    return accepts ? { ...base, accepts } : base;
  });
}
