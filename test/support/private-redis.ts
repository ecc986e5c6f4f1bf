import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findOnPath, INSTALL_REDIS_HINT } from '../../src/redis/private-server.js';
import { freePort, until } from './ports.js';

/**
 * A redis-server of its own (the fault suite's, or `npm test`'s when no Redis answers at
 * TEST_REDIS_URL), on a free port of 127.0.0.1 with its files in a
 * temporary directory. (Concord's own `startPrivateRedis` serves a unix socket and cannot be
 * restarted on the same address, so only its PATH lookup is reused here.)
 *
 * The two faults it plays, as the suite defines them:
 * - `restart()`: SIGTERM, then a new server on the same port and directory. The AOF is on
 *   (`appendfsync everysec`), and redis-server writes and syncs it on SIGTERM, so every key is
 *   back after the restart; what the clients see is their connections cut for the time it takes.
 * - `wipe()`: the same restart with the data files deleted in between: every key gone *and*
 *   every connection cut, as when a Redis without persistence (or with its disk lost) restarts.
 *   It is harsher than a FLUSHALL on live connections (`flushAll()`), which
 *   test/integration/scheduler-faults.test.ts covers for the scheduler alone.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly binary: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  get logFile(): string {
    return join(this.dir, 'redis.log');
  }

  static async create(options: { purpose?: 'faults' | 'test' } = {}): Promise<PrivateRedis> {
    const binary = findOnPath('redis-server');
    if (!binary) throw new Error(INSTALL_REDIS_HINT);
    const server = new PrivateRedis(
      mkdtempSync(join(tmpdir(), `concord-${options.purpose ?? 'faults'}-redis-`)),
      await freePort(),
      binary,
    );
    await server.start();
    return server;
  }

  /** Starts the server, unless it runs already. */
  async start(): Promise<void> {
    const running = this.child;
    if (running && running.exitCode === null && running.signalCode === null) return;
    const child = spawn(
      this.binary,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--daemonize',
        'no',
        '--logfile',
        this.logFile,
      ],
      { stdio: 'ignore' },
    );
    child.once('error', () => {});
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const up = await until(async () => child.exitCode === null && (await this.ping()), 20_000, 50);
    if (!up) {
      child.kill('SIGKILL');
      throw new Error(`the private redis-server did not start:\n${this.logTail(5)}`);
    }
  }

  /** SIGTERM: redis-server syncs its AOF and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * SIGKILL: nothing written on the way out (the AOF keeps what it synced, up to a second ago),
   * every connection cut at once, the port closed until `start`.
   */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** Stopped and started again on the same port; keys kept (see the class comment). */
  async restart(options: { downMs?: number } = {}): Promise<void> {
    await this.stop();
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.start();
  }

  /** Stopped, its data deleted, and started again empty on the same port. */
  async wipe(options: { downMs?: number } = {}): Promise<void> {
    await this.stop();
    rmSync(join(this.dir, 'appendonlydir'), { recursive: true, force: true });
    rmSync(join(this.dir, 'appendonly.aof'), { force: true });
    rmSync(join(this.dir, 'dump.rdb'), { force: true });
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.start();
  }

  /** FLUSHALL on the running server: every key gone, connections left alone. */
  async flushAll(): Promise<void> {
    await this.withClient((c) => c.flushall());
  }

  async dbsize(): Promise<number> {
    return this.withClient((c) => c.dbsize());
  }

  logTail(lines = 20): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** For a process `exit` handler: SIGKILL and the directory removed, nothing awaited. */
  destroySync(): void {
    this.child?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async ping(): Promise<boolean> {
    return this.withClient((c) => c.ping()).then(
      (r) => r === 'PONG',
      () => false,
    );
  }

  private async withClient<T>(use: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      connectTimeout: 1_000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return await use(client);
    } finally {
      client.disconnect();
    }
  }
}
