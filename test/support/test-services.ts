import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { openStorage } from '../../src/db/client.js';
import { makePgliteImage } from './pglite-image.js';
import { findPostgresBin, PrivatePostgres } from './private-postgres.js';
import { PrivateRedis } from './private-redis.js';

const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Which Postgres the run uses: the configured one, one of its own, or none (PGlite). */
export type PostgresChoice = 'standard' | 'private' | 'none';

export interface TestServices {
  postgres: PostgresChoice;
  /** The Postgres URL every project's workers get as TEST_DATABASE_URL (unset for `none`). */
  postgresUrl: string | undefined;
  redisUrl: string;
  /** The migrated template database each test file clones; '' without a Postgres. */
  pgTemplate: string;
  /** A migrated PGlite data directory (a tarball) each PGlite test database is loaded from. */
  pgliteImage: string;
}

interface Shared {
  ready: Promise<TestServices>;
  users: number;
  stop: () => Promise<void>;
}

// Vitest loads each project's globalSetup files through that project's own module runner, so a
// module-level variable would be one per project; the main process's globalThis is one per run.
const KEY = Symbol.for('concord.test-services');
const registry = globalThis as { [KEY]?: Shared };

/**
 * The Postgres and Redis of this test run, found or started once for all its projects, with one
 * migrated template database on that Postgres and one migrated PGlite image: the first
 * globalSetup to ask makes them, the last teardown drops every database of the run and stops
 * what the run started. A server that answers at
 * TEST_DATABASE_URL / TEST_REDIS_URL is used as it is. Where nothing answers, the run starts its
 * own in a temporary directory on a free port (initdb and pg_ctl from the machine,
 * redis-server from PATH); with no Postgres binaries at all its database projects run on PGlite.
 * Workers see the outcome through process.env, which Vitest copies into every worker it starts
 * after the global set-ups: TEST_DATABASE_URL, TEST_REDIS_URL, and TEST_POSTGRES=none.
 */
export function acquireTestServices(): Promise<TestServices> {
  let shared = registry[KEY];
  if (!shared) {
    const stops: (() => Promise<void>)[] = [];
    shared = {
      ready: startServices(stops),
      users: 0,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
    registry[KEY] = shared;
  }
  shared.users++;
  return shared.ready;
}

/** Called by each teardown; the last one stops the private servers and deletes their files. */
export async function releaseTestServices(): Promise<void> {
  const shared = registry[KEY];
  if (!shared) return;
  shared.users--;
  if (shared.users > 0) return;
  delete registry[KEY];
  await shared.stop();
}

async function startServices(stops: (() => Promise<void>)[]): Promise<TestServices> {
  try {
    return await findOrStart(stops);
  } catch (error) {
    // Vitest runs no teardown for a set-up that threw: stop here whatever did start.
    for (const stop of [...stops].reverse()) await stop().catch(() => {});
    stops.length = 0;
    throw error;
  }
}

async function findOrStart(stops: (() => Promise<void>)[]): Promise<TestServices> {
  const redisUrl = await chooseRedis(stops);
  const pg = await choosePostgres(stops);
  process.env.TEST_REDIS_URL = redisUrl;
  if (pg.url) process.env.TEST_DATABASE_URL = pg.url;
  if (pg.choice === 'none') process.env.TEST_POSTGRES = 'none';
  const [pgTemplate, pgliteImage] = await Promise.all([
    pg.url ? migrateTemplate(pg.url, stops) : '',
    makePgliteImage().then((image) => {
      stops.push(stopOnExit({ destroy: async () => image.remove(), destroySync: image.remove }));
      return image.file;
    }),
  ]);
  return { postgres: pg.choice, postgresUrl: pg.url, redisUrl, pgTemplate, pgliteImage };
}

/** Test files clone it; its clones are named after it, so the run drops them all by prefix. */
async function migrateTemplate(url: string, stops: (() => Promise<void>)[]): Promise<string> {
  const name = `concord_t_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  stops.push(async () => {
    const run = await admin<
      { datname: string }[]
    >`select datname from pg_database where datname like ${`${name}%`}`;
    for (const { datname } of run)
      await admin.unsafe(`drop database if exists ${datname} with (force)`);
    await admin.end();
  });
  await admin.unsafe(`create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const storage = await openStorage({ databaseUrl: target.toString() });
  await storage.close();
  return name;
}

async function choosePostgres(
  stops: (() => Promise<void>)[],
): Promise<{ choice: PostgresChoice; url: string | undefined }> {
  if (process.env.TEST_POSTGRES === 'none') {
    say(`postgres: none: PGlite (TEST_POSTGRES=none)${pgliteWorkers()}`);
    return { choice: 'none', url: undefined };
  }
  const configured = process.env.TEST_DATABASE_URL ?? DEFAULT_POSTGRES_URL;
  const problem = await postgresProblem(configured);
  if (problem === undefined) {
    say(`postgres: standard at ${withoutPassword(configured)}`);
    return { choice: 'standard', url: configured };
  }
  if (problem !== 'silent')
    throw new Error(
      `a Postgres answers at TEST_DATABASE_URL (${withoutPassword(configured)}) but refuses the tests: ${problem}`,
    );
  const bin = findPostgresBin();
  if (bin && !existsSync(join(bin, 'initdb')))
    throw new Error(
      `PG_BIN (${bin}) has no initdb: point it at Postgres's bin directory or unset it`,
    );
  if (!bin) {
    say(
      `postgres: none: PGlite (nothing answers at ${withoutPassword(configured)}, no initdb on PATH or in /usr/lib/postgresql)${pgliteWorkers()}`,
    );
    return { choice: 'none', url: undefined };
  }
  const server = await PrivatePostgres.create({
    purpose: 'test',
    concordDatabase: false,
    maxConnections: 200,
  });
  stops.push(stopOnExit(server));
  say(
    `postgres: private at port ${server.port} (nothing answers at ${withoutPassword(configured)}; ${server.dir}, deleted after the run)`,
  );
  return { choice: 'private', url: server.adminUrl };
}

/**
 * undefined when the server answers and lets the tests in, 'silent' when nothing answers at all
 * (no listener, no route, no such host), else the server's own refusal.
 */
async function postgresProblem(url: string): Promise<string | undefined> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return undefined;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (SILENT.has(code)) return 'silent';
    return error instanceof Error ? error.message : String(error);
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

// What a client meets when no server is there: postgres.js reports a connect timeout as
// CONNECT_TIMEOUT, the others are the socket's own.
const SILENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'CONNECT_TIMEOUT',
]);

async function chooseRedis(stops: (() => Promise<void>)[]): Promise<string> {
  const configured = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
  const answer = await redisAnswer(configured);
  if (typeof answer === 'string')
    throw new Error(
      `a Redis answers at TEST_REDIS_URL (${withoutPassword(configured)}) but refuses the tests: ${answer}`,
    );
  if (answer) {
    say(`redis: standard at ${withoutPassword(configured)}`);
    return configured;
  }
  const server = await PrivateRedis.create({ purpose: 'test' }).catch((error: Error) => {
    throw new Error(
      `no Redis answers at TEST_REDIS_URL (${withoutPassword(configured)}) and a private one could not start: ${error.message.split('\n')[0]}`,
    );
  });
  stops.push(stopOnExit(server));
  say(`redis: private at port ${server.port} (nothing answers at ${withoutPassword(configured)})`);
  return server.url;
}

/** true: it answers PONG; false: nothing answers; a string: what the server answered instead. */
async function redisAnswer(url: string): Promise<boolean | string> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    try {
      await client.connect();
    } catch {
      return false;
    }
    const reply = await client.ping().catch((error: Error) => error.message);
    return reply === 'PONG' ? true : reply;
  } finally {
    client.disconnect();
  }
}

/**
 * The orderly stop for the last teardown, and until then an `exit` handler that kills the server
 * if the run ends without its teardown (Ctrl-C, a crash of Vitest).
 */
function stopOnExit(server: {
  destroy(): Promise<void>;
  destroySync(): void;
}): () => Promise<void> {
  const onExit = () => server.destroySync();
  process.once('exit', onExit);
  return async () => {
    process.off('exit', onExit);
    await server.destroy();
  };
}

// postgres-setup.ts makes it so (why is there).
const pgliteWorkers = () => (process.env.TEST_WORKERS ? '' : '; two test files at a time');

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function say(line: string): void {
  process.stdout.write(`[test services] ${line}\n`);
}
