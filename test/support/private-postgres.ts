import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { openStorage } from '../../src/db/client.js';
import { findOnPath } from '../../src/redis/private-server.js';
import { freePort } from './ports.js';

export interface PrivatePostgresOptions {
  /** Whose server it is, for its directory's name and its errors (default `faults`). */
  purpose?: 'faults' | 'test';
  /** Create the `concord` database and migrate it (default true; `npm test` makes its own). */
  concordDatabase?: boolean;
  maxConnections?: number;
}

/**
 * A Postgres server of its own, from the binaries on the machine (`PG_BIN`, else initdb on PATH,
 * else Debian's `/usr/lib/postgresql/<newest>/bin`), in a temporary directory: the fault suite may
 * stop, crash and restart it as it likes without touching the shared server on 5432, and
 * `npm test` runs on one when no Postgres answers at TEST_DATABASE_URL. It listens on
 * 127.0.0.1 on a free port (Concord connects over TCP, as in production) and keeps its unix socket
 * in the same directory. Durability is switched off (fsync, synchronous_commit): a crash of the
 * machine is not one of the faults, and a restart (`pg_ctl stop`, either mode) loses nothing
 * committed.
 *
 * initdb refuses to run as root: as root, every Postgres binary runs as the `postgres` OS user,
 * which owns the directory; otherwise as the current user.
 */
export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  /** Where the cluster's files are. */
  get dataDir(): string {
    return join(this.dir, 'data');
  }
  /** The server's own log, for a failing test to show. */
  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }
  /** Concord's database on this server. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/concord`;
  }
  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb, start, create the `concord` database and run Concord's migrations on it. */
  static async create(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
    const purpose = options.purpose ?? 'faults';
    const who = purpose === 'faults' ? 'the fault suite' : 'npm test';
    const bin = findPostgresBin();
    if (!bin)
      throw new Error(
        `${who} needs the Postgres server binaries (initdb, pg_ctl): none on PATH or under ${DEBIAN_ROOT}; install postgresql or set PG_BIN`,
      );
    const dir = mkdtempSync(join(tmpdir(), `concord-${purpose}-pg-`));
    const owner = process.getuid?.() === 0 ? osUser('postgres') : undefined;
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const server = new PrivatePostgres(dir, await freePort(), bin, owner);
    try {
      await server.run('initdb', [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--no-sync',
        '--no-instructions',
        '--encoding=UTF8',
        '--locale=C',
      ]);
      appendFileSync(
        join(server.dataDir, 'postgresql.conf'),
        [
          '',
          `# ${who}`,
          `port = ${server.port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'full_page_writes = off',
          `max_connections = ${options.maxConnections ?? 60}`,
          'shared_buffers = 32MB',
          '',
        ].join('\n'),
      );
      await server.start();
      if (options.concordDatabase === false) return server;
      const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe('create database concord');
      } finally {
        await admin.end();
      }
      const storage = await openStorage({ databaseUrl: server.url });
      await storage.close();
      return server;
    } catch (err) {
      await server.destroy();
      throw err;
    }
  }

  async start(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', '120', 'start']);
    this.running = true;
  }

  /**
   * `fast`: Postgres ends every session (clients see 57P01) and shuts down cleanly. `immediate`:
   * every process quits at once, as in a crash; the next start recovers from the WAL.
   */
  async stop(options: { mode?: 'fast' | 'immediate' } = {}): Promise<void> {
    await this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-m',
      options.mode ?? 'fast',
      '-w',
      '-t',
      '60',
      'stop',
    ]);
    this.running = false;
  }

  async restart(options: { mode?: 'fast' | 'immediate' } = {}): Promise<void> {
    await this.stop(options);
    await this.start();
  }

  /** The last lines of the server's log. */
  logTail(lines = 20): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  }

  /** Stops the server (immediately) if it runs and removes its directory. */
  async destroy(): Promise<void> {
    if (this.running || existsSync(join(this.dataDir, 'postmaster.pid'))) {
      await this.stop({ mode: 'immediate' }).catch(() => {});
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * For a process `exit` handler, where nothing asynchronous runs any more: the server stopped
   * at once and its directory removed, so an interrupted run leaves no postmaster behind.
   */
  destroySync(): void {
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
      try {
        execFileSync(join(this.bin, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', 'stop'], {
          cwd: this.dir,
          stdio: 'ignore',
          ...(this.owner ?? {}),
        });
      } catch {}
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(join(this.bin, tool), args, {
        cwd: this.dir,
        env: { ...(this.owner ? {} : process.env), PATH: process.env.PATH ?? '', LC_ALL: 'C' },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(this.owner ?? {}),
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `${tool} ${args.join(' ')} exited with ${code}:\n${output.trim()}\n${this.logTail(10)}`,
            ),
          );
      });
    });
  }
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

/**
 * Where initdb and pg_ctl are: `PG_BIN`, else the directory of an initdb on PATH, else the newest
 * `/usr/lib/postgresql/<version>/bin` with an initdb (Debian keeps them off PATH); undefined when
 * there is none.
 */
export function findPostgresBin(): string | undefined {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  const onPath = findOnPath('initdb');
  // Debian's /usr/bin or a /usr/local/bin may hold symlinks: pg_ctl is beside the real initdb.
  if (onPath) return dirname(realpathSync(onPath));
  const versions = existsSync(DEBIAN_ROOT)
    ? readdirSync(DEBIAN_ROOT)
        .filter((v) => existsSync(join(DEBIAN_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  const newest = versions[0];
  return newest ? join(DEBIAN_ROOT, newest, 'bin') : undefined;
}

function osUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
