import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
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
  /** Stops the server (it writes its AOF first). */
  stop(): Promise<void>;
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
 * Starts a redis-server of Concord's own in `<dataDir>/redis`: unix socket only (no TCP port),
 * AOF on, so queued jobs survive a restart. A server left running by a Concord that was killed
 * is reused rather than doubled, since two servers must never share one AOF.
 */
export async function startPrivateRedis(
  dataDir: string,
  logger: Logger,
  path?: string,
): Promise<PrivateRedis> {
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  let socket = join(dir, 'redis.sock');
  if (socket.length > MAX_SOCKET_PATH) {
    socket = join(
      tmpdir(),
      `concord-redis-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}.sock`,
    );
  }

  if (existsSync(socket)) {
    if (await answers(socket)) {
      logger.warn({ socket }, 'reusing the private redis-server a previous run left running');
      return { socket, stop: () => shutdown(socket) };
    }
    unlinkSync(socket);
  }

  const binary = findOnPath('redis-server', path);
  if (!binary) throw new RedisUnavailableError(INSTALL_REDIS_HINT);
  const logfile = join(dir, 'redis.log');
  const child = spawn(
    binary,
    [
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
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.once('error', () => {});

  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    if (existsSync(socket) && (await answers(socket))) {
      logger.info({ socket }, 'private redis-server started');
      return { socket, stop: () => stopChild(child, exited) };
    }
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

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
