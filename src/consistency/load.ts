import type { DatabaseHandle } from '../db/toQueryable';
import type { Row } from '../db/types';
import { CacheLoadError } from '../errors';
import type { CompiledContract } from './contract';

/**
 * Reading the rows each checked key must hold. Table contracts are batched (one query per chunk of keys,
 * or one scan of the table on the embedded pg-mem database, where a statement costs ~1 ms); every key that
 * finds no row in a batch is read again on its own, so the result is exactly a per-key read-through.
 */

export interface LoadRequest {
  /** The key as text, for messages. */
  key: string;
  params: Record<string, string>;
}

/** Keys per IN (...) batch on a real database. */
const BATCH = 500;
/** From this many keys on, the embedded database scans the table once instead of querying per batch. */
const SCAN_FROM = 8;
/** Custom load functions in flight at once. */
const CONCURRENCY = 16;

function normalizeLoadResult(c: CompiledContract, key: string, result: unknown): Row[] {
  if (result === null || result === undefined) return [];
  if (Array.isArray(result)) {
    const bad = result.findIndex((r) => r === null || typeof r !== 'object' || Array.isArray(r));
    if (bad >= 0) throw new CacheLoadError(c.name, key, `load returned an array whose item ${bad} is not a row object (${describe(result[bad])})`);
    return result as Row[];
  }
  if (typeof result === 'object') return [result as Row];
  throw new CacheLoadError(c.name, key, `load returned ${describe(result)}; return a row, an array of rows, or null/undefined/[] for none`);
}

/** The first line of an error's message (pg-mem appends paragraphs of advice; the cause keeps them). */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!.trim();
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `${typeof v} ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'object' ? '' : String(v)}`.trim();
}

function selectSql(c: CompiledContract, condition: string): string {
  const order = c.options.orderBy ? ` ORDER BY ${c.options.orderBy}` : '';
  return `SELECT * FROM ${c.options.table}${condition ? ` WHERE ${condition}` : ''}${order}`;
}

/** The single-key read-through of a table contract. */
async function loadOneFromTable(db: DatabaseHandle, c: CompiledContract, req: LoadRequest): Promise<Row[]> {
  const condition = c.where.map(([column], i) => `${column} = $${i + 1}`).join(' AND ');
  const params = c.where.map(([, param]) => req.params[param]);
  try {
    return await db.query(selectSql(c, condition), params);
  } catch (err) {
    throw new CacheLoadError(c.name, req.key, `${db.describe()}: ${firstLine(err)}`, err);
  }
}

const groupKey = (values: readonly unknown[]) => JSON.stringify(values.map((v) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v))));

async function loadTable(db: DatabaseHandle, c: CompiledContract, requests: readonly LoadRequest[]): Promise<Row[][]> {
  if (c.where.length === 0) {
    // A key without parameters (`users:active`): one read serves every request.
    const rows = requests.length ? await loadOneFromTable(db, c, requests[0]!) : [];
    return requests.map(() => rows);
  }
  const result: Array<Row[] | undefined> = new Array(requests.length);
  const wanted = requests.map((r) => groupKey(c.where.map(([, param]) => r.params[param])));
  const collect = (rows: readonly Row[], indexes: readonly number[]) => {
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      const k = groupKey(c.where.map(([column]) => row[column]));
      let list = byKey.get(k);
      if (!list) byKey.set(k, (list = []));
      list.push(row);
    }
    for (const i of indexes) {
      const hit = byKey.get(wanted[i]!);
      if (hit) result[i] = hit;
    }
  };
  const all = requests.map((_, i) => i);
  const embedded = db.kind === 'testDb' || db.kind === 'pg-mem';
  if (embedded && requests.length >= SCAN_FROM) {
    try {
      collect(await db.query(selectSql(c, '')), all);
    } catch {
      // Fall through: every key is read on its own below, which reports the error against a key.
    }
  } else if (requests.length > 1) {
    for (let start = 0; start < requests.length; start += BATCH) {
      const chunk = all.slice(start, start + BATCH);
      const params: unknown[] = [];
      let condition: string;
      if (c.where.length === 1) {
        const column = c.where[0]![0];
        condition = `${column} IN (${chunk.map((i) => (params.push(requests[i]!.params[c.where[0]![1]]), `$${params.length}`)).join(', ')})`;
      } else {
        condition = chunk
          .map((i) => `(${c.where.map(([column, param]) => (params.push(requests[i]!.params[param]), `${column} = $${params.length}`)).join(' AND ')})`)
          .join(' OR ');
      }
      try {
        collect(await db.query(selectSql(c, condition), params), chunk);
      } catch {
        // One key's value may be invalid for the column type: read this chunk key by key to say which.
      }
    }
  }
  // Keys the batch found no row for (or every key, for a single request): the exact per-key read-through.
  await forEachLimited(all.filter((i) => result[i] === undefined), CONCURRENCY, async (i) => {
    result[i] = await loadOneFromTable(db, c, requests[i]!);
  });
  return result as Row[][];
}

async function loadCustom(db: DatabaseHandle, c: CompiledContract, requests: readonly LoadRequest[]): Promise<Row[][]> {
  const load = c.options.load!;
  const out: Row[][] = new Array(requests.length);
  await forEachLimited(requests.map((_, i) => i), CONCURRENCY, async (i) => {
    const req = requests[i]!;
    let result: unknown;
    try {
      result = await load(db, req.params as never);
    } catch (err) {
      throw new CacheLoadError(c.name, req.key, `load threw: ${firstLine(err)}`, err);
    }
    out[i] = normalizeLoadResult(c, req.key, result);
  });
  return out;
}

/** The rows for each request, in request order. Throws CacheLoadError. */
export async function loadRows(db: DatabaseHandle, c: CompiledContract, requests: readonly LoadRequest[]): Promise<Row[][]> {
  const rows = c.options.table !== undefined ? await loadTable(db, c, requests) : await loadCustom(db, c, requests);
  const single = !c.options.many && (c.encoding === 'json' || c.encoding === 'hash' || c.encoding === 'string');
  if (single && !c.options.expected) {
    rows.forEach((r, i) => {
      if (r.length > 1)
        throw new CacheLoadError(
          c.name,
          requests[i]!.key,
          `${r.length} rows came back for a key that holds one row. Make the query select one row (a unique ` +
            `where, LIMIT 1), or declare many: true if the key holds them all`,
        );
    });
  }
  return rows;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. When some fail, rejects with the error of the
 * earliest item (not the first to finish), so the same state always reports the same error.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstFailed = Infinity;
  let firstError: unknown;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        await fn(items[index]!);
      } catch (err) {
        if (index < firstFailed) (firstFailed = index), (firstError = err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstFailed !== Infinity) throw firstError;
}
