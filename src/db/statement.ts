import {
  getTableColumns,
  type Placeholder,
  type Query,
  type SQL,
  sql,
  type Table,
} from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Queryable } from './client.js';

/**
 * A statement drizzle builds once, with `sql.placeholder(name)` for its values, then runs on any
 * Queryable, open transactions included (drizzle's own `.prepare()` binds to the one session it
 * was made on, and our transactions each get a session of their own). Building is most of
 * drizzle's cost on a hot path: the scheduled_items upsert allocates 84 KB built per call and
 * about 6 KB built once. Placeholders keep their column's encoding (a Date, jsonb).
 *
 * A placeholder's value is never null: drizzle encodes it as its column's type (a null Date
 * throws, a null jsonb becomes JSON `null`). Leave columns that are null out of the statement.
 *
 * Rows come back as Postgres sends them, under the column names and without drizzle's mapping:
 * return numbers and text only (`::float8` for a time, as epoch milliseconds; a bigint comes
 * as text).
 */
export function reusableStatement<Row extends Record<string, unknown>>(
  build: (on: Queryable) => { toSQL(): Query },
): (on: Queryable, values: Record<string, unknown>) => Promise<Row[]> {
  let built: Query | undefined;
  return async (on, values) => {
    built ??= build(on).toSQL();
    const result: unknown = await on._.session
      .prepareQuery(built, undefined, undefined, false)
      .execute(values);
    // postgres.js answers an array of rows; PGlite a result holding them.
    return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
  };
}

/**
 * `sql.placeholder(key)` for every column of `table` but those in `except`, each named by the
 * column's key: an insert of whole rows, their values given at each run.
 */
export function columnPlaceholders<T extends Table>(
  table: T,
  except: readonly (keyof T['$inferSelect'])[] = [],
): Record<string, Placeholder> {
  return Object.fromEntries(
    Object.keys(getTableColumns(table))
      .filter((key) => !except.includes(key as keyof T['$inferSelect']))
      .map((key) => [key, sql.placeholder(key)]),
  );
}

const dialect = new PgDialect();

/**
 * A statement over many rows passed as one JSON parameter, `jsonb_to_recordset(rows)`: a fan-out
 * writes hundreds of rows in one statement without drizzle building (and Postgres binding) a
 * parameter per value, which for 400 rows of 4 columns was most of the command's time. `build`
 * gets the rows as an SQL fragment to select from; the statement is built once.
 * @example jsonRowsStatement((rows) => sql`insert into t (a) select a from jsonb_to_recordset(${rows}) as x(a int)`)
 */
export function jsonRowsStatement<Row extends Record<string, unknown>>(
  build: (rows: SQL) => SQL,
): (on: Queryable, rows: readonly object[]) => Promise<Row[]> {
  const run = reusableStatement<Row>(() => {
    const query = dialect.sqlToQuery(build(sql`${sql.placeholder('rows')}::jsonb`));
    return { toSQL: () => query };
  });
  return async (on, rows) => (rows.length === 0 ? [] : run(on, { rows: JSON.stringify(rows) }));
}
