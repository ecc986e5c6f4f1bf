import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openStorage } from '../../../src/db/client.js';
import { freePort } from './ports.js';

/**
 * A Postgres server of the fault suite's own, from the binaries on the machine
 * (`/usr/lib/postgresql/<newest>/bin`, or `PG_BIN`), in a temporary directory: the suite may stop,
 * crash and restart it as it likes without touching the shared server on 5432. It listens on
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
  static async create(): Promise<PrivatePostgres> {
    const bin = postgresBin();
    const dir = mkdtempSync(join(tmpdir(), 'concord-faults-pg-'));
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
          '# the fault suite',
          `port = ${server.port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${dir}'`,
          'fsync = off',
          'full_page_writes = off',
          'max_connections = 60',
          'shared_buffers = 32MB',
          '',
        ].join('\n'),
      );
      await server.start();
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

/** The newest `/usr/lib/postgresql/<version>/bin` with an initdb, or `PG_BIN`. */
function postgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  const newest = versions[0];
  if (!newest)
    throw new Error(
      `the fault suite needs the Postgres server binaries (initdb, pg_ctl): none under ${root}; install postgresql or set PG_BIN`,
    );
  return join(root, newest, 'bin');
}

function osUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
