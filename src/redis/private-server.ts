import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

export const INSTALL_REDIS_HINT =
  'Concord needs Redis: install redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL=redis://host:6379';

export interface PrivateRedis {
  /** Unix socket path the server listens on. */
  socket: string;
  /**
   * Calls `listener` once each time the server died under Concord and was started again (the
   * shell prints one line; the log already has one).
   */
  onRestart(listener: (restart: PrivateRedisRestart) => void): void;
  /** Stops supervising and stops the server (it writes its AOF first; SIGKILL after 3 s). */
  stop(): Promise<void>;
}

export interface PrivateRedisRestart {
  /** How it ended: `SIGKILL`, `exit 1`, … */
  exit: string;
  /** Restarts since Concord started it. */
  restarts: number;
  /** From its death to its answering again. */
  downMs: number;
}

/** Where `name` is on PATH, or null. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

// sun_path holds 108 bytes on Linux, 104 on macOS.
const MAX_SOCKET_PATH = 100;

/**
 * The waits between a death and the next start: at once the first time, then doubling up to
 * 30 s while it keeps dying. A server that stayed up `STEADY_MS` starts the count again.
 */
export const RESTART_BACKOFF_MS = [100, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000] as const;
const STEADY_MS = 60_000;
/** How long a starting server may take to answer (it loads its AOF first). */
const START_TIMEOUT_MS = 10_000;
/** How long `stop` waits for SIGTERM (the AOF written) before SIGKILL. */
const STOP_TIMEOUT_MS = 3_000;

export interface PrivateRedisOptions {
  /** PATH to look for redis-server on (tests). */
  path?: string;
  /** The waits between restarts (tests). */
  backoffMs?: readonly number[];
}

/**
 * Starts a redis-server of Concord's own in `<dataDir>/redis`: unix socket only (no TCP port),
 * AOF on, so queued jobs survive a restart; and supervises it: when it dies under Concord
 * (killed, crashed, shut down by hand), it is started again on the same directory and socket,
 * said once in the log (and to `onRestart` listeners), backing off while it keeps dying. Every
 * client reconnects to the same socket by itself.
 *
 * A server found already answering on the socket was left by a Concord that died without
 * stopping it (SIGKILL). It is shut down (SHUTDOWN writes its AOF) and a child of this process
 * started on the same files, rather than adopted: a child is one this process can watch die and
 * restart, and stop at exit. Two live Concords on one data directory never come here: the data
 * directory's lock refuses the second before it starts Redis, so the leftover's owner is dead.
 */
export async function startPrivateRedis(
  dataDir: string,
  logger: Logger,
  options: PrivateRedisOptions | string = {},
): Promise<PrivateRedis> {
  const opts = typeof options === 'string' ? { path: options } : options;
  const backoff = opts.backoffMs ?? RESTART_BACKOFF_MS;
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  let socket = join(dir, 'redis.sock');
  if (socket.length > MAX_SOCKET_PATH) {
    socket = join(
      tmpdir(),
      `concord-redis-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}.sock`,
    );
  }

  if (existsSync(socket) && (await answers(socket))) {
    await shutdownLeftover(socket, join(dir, 'redis.pid'));
    logger.warn(
      { socket },
      'shut down the private redis-server a previous run left running; starting a fresh one on its files',
    );
  }

  const binary = findOnPath('redis-server', opts.path);
  if (!binary) throw new RedisUnavailableError(INSTALL_REDIS_HINT);
  const logfile = join(dir, 'redis.log');
  const args = [
    '--port',
    '0',
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '700',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--daemonize',
    'no',
    '--logfile',
    logfile,
    '--pidfile',
    join(dir, 'redis.pid'),
  ];

  let child = await startChild(binary, args, socket, logfile);
  logger.info({ socket }, 'private redis-server started');
  const listeners: ((restart: PrivateRedisRestart) => void)[] = [];
  let stopping = false;
  let restarts = 0;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  /** A server being started again, not yet answering: stopped with the rest, never orphaned. */
  let starting: ChildProcess | undefined;
  let upSince = Date.now();

  const watch = (running: Child) => {
    void running.exited.then((exit) => {
      if (stopping) return;
      if (Date.now() - upSince >= STEADY_MS) failures = 0;
      const diedAt = Date.now();
      const attempt = () => {
        retryTimer = undefined;
        if (stopping) return;
        startChild(binary, args, socket, logfile, (spawned) => {
          starting = spawned;
        }).then(
          (next) => {
            starting = undefined;
            if (stopping) {
              void stopChild(next);
              return;
            }
            child = next;
            upSince = Date.now();
            restarts++;
            const restart = { exit, restarts, downMs: Date.now() - diedAt };
            logger.warn(
              { socket, ...restart },
              'the private redis-server died and was started again on its data (AOF kept)',
            );
            for (const listener of listeners) {
              try {
                listener(restart);
              } catch {}
            }
            watch(next);
          },
          (err: unknown) => {
            starting = undefined;
            if (stopping) return;
            const waitMs = backoff[Math.min(failures++, backoff.length - 1)] ?? 30_000;
            logger.warn(
              { socket, err: err instanceof Error ? err.message : String(err), retryInMs: waitMs },
              'the private redis-server did not start again; trying later',
            );
            retryTimer = setTimeout(attempt, waitMs);
          },
        );
      };
      const waitMs = backoff[Math.min(failures++, backoff.length - 1)] ?? 30_000;
      retryTimer = setTimeout(attempt, waitMs);
    });
  };
  watch(child);

  return {
    socket,
    onRestart: (listener) => {
      listeners.push(listener);
    },
    stop: async () => {
      stopping = true;
      clearTimeout(retryTimer);
      // Redis loading its AOF ends on SIGTERM too; whatever it had not loaded stays in the file.
      if (starting && starting.exitCode === null && starting.signalCode === null) {
        const exited = new Promise((done) => starting?.once('exit', done));
        starting.kill('SIGTERM');
        await exited;
      }
      await stopChild(child);
    },
  };
}

interface Child {
  process: ChildProcess;
  /** How it ended: `SIGKILL`, `exit 0`. */
  exited: Promise<string>;
}

/** Spawns redis-server and resolves once it answers on `socket`; throws if it does not. */
async function startChild(
  binary: string,
  args: readonly string[],
  socket: string,
  logfile: string,
  onSpawn?: (child: ChildProcess) => void,
): Promise<Child> {
  // A server killed with SIGKILL leaves its socket file behind.
  if (existsSync(socket) && !(await answers(socket))) rmSync(socket, { force: true });
  const child = spawn(binary, args, { stdio: 'ignore' });
  onSpawn?.(child);
  const exited = new Promise<string>((done) =>
    child.once('exit', (code, signal) => done(signal ?? `exit ${code}`)),
  );
  child.once('error', () => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (existsSync(socket) && (await answers(socket))) return { process: child, exited };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  const tail = existsSync(logfile)
    ? readFileSync(logfile, 'utf8').trim().split('\n').slice(-3).join(' | ')
    : '';
  throw new RedisUnavailableError(
    `the private redis-server did not start${tail ? `: ${tail}` : ''}`,
  );
}

/**
 * Shuts down a server no live Concord owns and waits for its process to be gone: two servers on
 * one AOF would corrupt it.
 */
async function shutdownLeftover(socket: string, pidfile: string): Promise<void> {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(pidfile, 'utf8').trim()) || undefined;
  } catch {}
  await shutdown(socket);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!(await answers(socket)) && !(pid && isAlive(pid))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new RedisUnavailableError(
    `a private redis-server left running on ${socket} did not shut down; stop it (pid ${pid ?? 'unknown'}) and start again`,
  );
}

/** Whether a process with this pid is alive (EPERM: it is, another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Connects once to the socket, runs `use`, and disconnects; null when nobody answers. */
async function withSocket<T>(
  socket: string,
  use: (client: Redis) => Promise<T>,
): Promise<T | null> {
  const client = new Redis({
    path: socket,
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await use(client);
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

const answers = async (socket: string) =>
  (await withSocket(socket, (client) => client.ping())) === 'PONG';

// SHUTDOWN closes the connection before replying, so its "error" is the success.
const shutdown = async (socket: string) => {
  await withSocket(socket, (client) => client.call('SHUTDOWN').catch(() => null));
};

async function stopChild(child: Child): Promise<void> {
  const { process: proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await child.exited;
  clearTimeout(timer);
}
