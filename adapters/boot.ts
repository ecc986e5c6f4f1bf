import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { openStorage, type Storage } from '../src/db/client.js';

/** A start-up failure the operator can act on: printed as one line, exit code 1 or 2. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.message, 2);
    throw err;
  }
}

/** Postgres at DATABASE_URL, or PGlite kept in CONCORD_DATA_DIR/pgdata. */
export async function openConfiguredStorage(config: Config): Promise<Storage> {
  try {
    return await openStorage(
      config.DATABASE_URL
        ? { databaseUrl: config.DATABASE_URL }
        : { pgliteDir: join(config.CONCORD_DATA_DIR, 'pgdata') },
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const where = config.DATABASE_URL
      ? 'the database at DATABASE_URL'
      : `the embedded database in ${config.CONCORD_DATA_DIR}`;
    throw new StartupError(`cannot open ${where}: ${reason}`);
  }
}

/** Runs an entry point, turning StartupErrors into one line on stderr and an exit code. */
export function runEntryPoint(main: () => Promise<number | undefined>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      if (err instanceof StartupError) {
        process.stderr.write(`concord: ${err.message}\n`);
        process.exit(err.exitCode);
      }
      process.stderr.write(
        `concord: unexpected failure at start-up: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
