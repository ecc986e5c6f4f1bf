import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  PGlite,
  type Transaction as PgliteTransaction,
  type QueryOptions,
} from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema/index.js';
import { inTransactionScope, refuseInsideTransaction } from './transaction-guard.js';

export type Schema = typeof schema;
/** The drizzle handle the core uses, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];
/** Reads take either the database or an open transaction. */
export type Queryable = Database | Transaction;

export interface Storage {
  readonly db: Database;
  readonly kind: 'postgres' | 'pglite';
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

// Any fixed number: instances starting together take turns at migrating.
const MIGRATION_LOCK_KEY = 0x0c0dc0de;

export type StorageTarget =
  | {
      databaseUrl: string;
      /** postgres.js's pipeline depth per connection (tests drive it to its edge cases). */
      maxPipeline?: number;
    }
  | {
      pgliteDir: string | null;
      /** An in-memory PGlite starts from this dump of a data directory (tests load a migrated one). */
      loadDataDir?: Blob;
    };

/**
 * Opens the database and applies committed migrations. `pgliteDir: null` is an in-memory PGlite
 * (tests); a directory keeps the data across restarts.
 */
export async function openStorage(target: StorageTarget): Promise<Storage> {
  if ('databaseUrl' in target) return openPostgres(target.databaseUrl, target.maxPipeline);
  return openPglite(target.pgliteDir, target.loadDataDir);
}

async function openPostgres(url: string, maxPipeline?: number): Promise<Storage> {
  const sql = postgres(url, {
    max: 10,
    ...(maxPipeline === undefined ? {} : { max_pipeline: maxPipeline }),
    onnotice: () => {},
    connect_timeout: 5,
    // Keep a dead server from hanging a command past the platforms' 3-second deadline.
    idle_timeout: 60,
    // Reconnect every 100 ms while the server is away. postgres.js's default backs off to 20 s
    // between tries: during an outage a command then waited silently instead of hearing
    // "unavailable, try again", and the first ones after it took up to 10 s (the fault suite,
    // Postgres restarted under load: worst answer 16.8 s, now under 0.1 s).
    backoff: () => 0.1,
  });
  const db = drizzlePostgres({ client: guardedPool(sql), schema });
  const lock = await sql.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    lock.release();
  }
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await sql`select 1`;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * drizzle sends every query it did not name through `unsafe(…, { prepare: false })`, so Postgres
 * parses and plans each one afresh: 0.5 ms median and 2 ms at p99 for a one-row lookup, against
 * 0.18 and 0.33 ms prepared (measured on the directory benchmark). postgres.js caches prepared
 * statements per connection by their text; drizzle's texts are fixed shapes with parameters, so
 * the cache stays small. (Behind PgBouncer in transaction mode, use 1.21+ with prepared
 * statement support.)
 */
function preparingStatements<T extends postgres.Sql | postgres.TransactionSql>(sql: T): T {
  const unsafe = (
    query: string,
    params?: postgres.ParameterOrJSON<never>[],
    options?: postgres.UnsafeQueryOptions,
  ) => sql.unsafe(query, params, { ...options, prepare: true });
  return new Proxy(sql, {
    get: (target, property, receiver) =>
      property === 'unsafe' ? unsafe : Reflect.get(target, property, receiver),
  });
}

/**
 * The pool as drizzle's `db` sees it: statements prepared, transactions on a reserved connection,
 * and every query (prepared statements made on `db` included: they run through `unsafe` too)
 * refused inside a transaction's async context, where it belongs on the transaction's handle.
 */
function guardedPool(sql: postgres.Sql): postgres.Sql {
  const unsafe = (
    query: string,
    params?: postgres.ParameterOrJSON<never>[],
    options?: postgres.UnsafeQueryOptions,
  ) => {
    refuseInsideTransaction(query);
    return sql.unsafe(query, params, { ...options, prepare: true });
  };
  const begin = (...args: unknown[]) => {
    const callback = args.pop() as (tx: postgres.Sql) => unknown;
    const options = typeof args[0] === 'string' ? args[0] : '';
    return onReservedConnection(sql, options, callback);
  };
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === 'unsafe') return unsafe;
      if (property === 'begin') return begin;
      return Reflect.get(target, property, receiver);
    },
  });
}

/**
 * A transaction on a connection reserved before anything is sent. postgres.js 3.4.9's own
 * `begin` reserves the connection only after writing BEGIN, and skips that when the write fills
 * the connection's pipeline or meets socket backpressure (porsager/postgres#823, #1189, open):
 * the transaction then stays open on a pooled connection and unrelated queries run inside it.
 * Under the ack benchmark's load it happened about once in 5,000 commands. Statements are
 * prepared here too, and savepoints (drizzle's nested transactions) are plain SQL on the same
 * connection.
 */
async function onReservedConnection(
  sql: postgres.Sql,
  options: string,
  callback: (tx: postgres.Sql) => unknown,
): Promise<unknown> {
  refuseInsideTransaction(`begin ${options}`);
  const connection = await sql.reserve();
  try {
    await connection.unsafe(`begin ${options.replace(/[^a-z ]/gi, '')}`);
    let result: unknown;
    try {
      const tx = withSavepoints(connection);
      result = await inTransactionScope(() => callback(tx));
    } catch (error) {
      await connection.unsafe('rollback');
      throw error;
    }
    await connection.unsafe('commit');
    return result;
  } finally {
    connection.release();
  }
}

function withSavepoints(connection: postgres.ReservedSql): postgres.Sql {
  let depth = 0;
  const tx = preparingStatements(connection as postgres.Sql);
  return new Proxy(tx, {
    get(target, property, receiver) {
      if (property !== 'savepoint') return Reflect.get(target, property, receiver);
      return async (...args: unknown[]) => {
        const callback = args.pop() as (tx: postgres.Sql) => unknown;
        const name = `concord_sp_${++depth}`;
        await connection.unsafe(`savepoint ${name}`);
        try {
          const result = await callback(receiver as postgres.Sql);
          await connection.unsafe(`release savepoint ${name}`);
          return result;
        } catch (error) {
          await connection.unsafe(`rollback to savepoint ${name}`);
          throw error;
        } finally {
          depth--;
        }
      };
    },
  });
}

async function openPglite(dir: string | null, loadDataDir?: Blob): Promise<Storage> {
  if (dir) mkdirSync(dir, { recursive: true });
  const client = dir ? new PGlite(dir) : new PGlite(loadDataDir ? { loadDataDir } : {});
  // Its start-up makes queries of its own through `query`: they must not wait for a turn behind
  // ours, which wait for the start-up.
  await client.waitReady;
  const db = drizzlePglite({ client: guardedClient(client), schema });
  await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

/**
 * PGlite has one connection: a query through the client while one of its transactions is open
 * waits for the transaction, and a query made by the transaction's own code path waits forever.
 * Those are refused at once; queries from unrelated async contexts wait their turn.
 *
 * The turns are taken here, one event-loop turn apart. PGlite runs each statement synchronously
 * on this thread and hands its lock to the next waiter in a microtask, so a burst of queued
 * statements ran back to back with no timer or socket served in between: 200 one-row updates
 * froze the process for 350–650 ms, and the pacer's 21 ms Discord turns fired together and met
 * 429s. With a turn between statements the longest timer gap in the same burst was 13–37 ms, the
 * burst's time unchanged. An idle client runs a statement at once. PGlite's transaction handle
 * reaches the engine directly: its statements run within the transaction's turn.
 */
function guardedClient(client: PGlite): PGlite {
  const { query, exec, transaction } = client;
  const inTurn = takingTurns();
  return Object.assign(client, {
    query(text: string, params?: unknown[], options?: QueryOptions) {
      refuseInsideTransaction(text);
      return inTurn(() => query.call(client, text, params, options));
    },
    exec(text: string, options?: QueryOptions) {
      refuseInsideTransaction(text);
      return inTurn(() => exec.call(client, text, options));
    },
    transaction<T>(callback: (tx: PgliteTransaction) => Promise<T>) {
      refuseInsideTransaction('begin');
      return inTurn(() =>
        transaction.call(client, (tx: PgliteTransaction) => inTransactionScope(() => callback(tx))),
      );
    },
  } as Pick<PGlite, 'query' | 'exec' | 'transaction'>);
}

const nextTurnOfEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs one piece of work at a time, in order; work that waited starts on a later turn. */
function takingTurns(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  let unsettled = 0;
  const settled = () => {
    unsettled--;
  };
  return (work) => {
    const result = unsettled === 0 ? work() : last.then(nextTurnOfEventLoop).then(work);
    unsettled++;
    last = result.then(settled, settled);
    return result;
  };
}
