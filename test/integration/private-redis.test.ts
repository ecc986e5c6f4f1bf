import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { connectRedis } from '../../src/redis/connect.js';
import {
  findOnPath,
  INSTALL_REDIS_HINT,
  type PrivateRedisRestart,
  RedisUnavailableError,
  startPrivateRedis,
} from '../../src/redis/private-server.js';
import { until } from '../faults/support/ports.js';

const logger = createLogger('silent');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'concord-redis-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the private redis-server (REDIS_URL unset)', () => {
  it('starts on a unix socket with AOF, and keeps data across a restart', async () => {
    const dataDir = tempDir();
    const first = await connectRedis({ CONCORD_DATA_DIR: dataDir, REDIS_URL: undefined }, logger);
    expect(first.kind).toBe('private');
    expect(first.options.path).toMatch(/redis\.sock$/);
    await first.client.set('concord:test', 'kept');
    expect(await first.client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await first.client.config('GET', 'port')).toEqual(['port', '0']);
    await first.close();
    expect(existsSync(join(dataDir, 'redis', 'redis.sock'))).toBe(false);
    expect(readdirSync(join(dataDir, 'redis'))).toContain('appendonlydir');

    const second = await connectRedis({ CONCORD_DATA_DIR: dataDir, REDIS_URL: undefined }, logger);
    expect(await second.client.get('concord:test')).toBe('kept');
    await second.close();
  });

  it('shuts down a server a killed Concord left running and starts a child of its own on its data', async () => {
    const dataDir = tempDir();
    // What a Concord killed with SIGKILL leaves: its redis-server, running on with nobody
    // supervising it.
    const dir = join(dataDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const socket = join(dir, 'redis.sock');
    const orphan = spawn(
      findOnPath('redis-server') ?? 'redis-server',
      ['--port', '0', '--unixsocket', socket, '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: 'ignore' },
    );
    const orphanGone = new Promise((resolve) => orphan.once('exit', resolve));
    await until(async () => {
      const probe = new Redis({ path: socket, lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => {});
      const ok = await probe.connect().then(
        () => probe.set('concord:test', 'kept'),
        () => null,
      );
      probe.disconnect();
      return ok === 'OK';
    }, 10_000);

    const fresh = await startPrivateRedis(dataDir, logger);
    await orphanGone;
    expect(orphan.exitCode).toBe(0); // shut down (its AOF written), not killed
    expect(fresh.socket).toBe(socket);
    const client = new Redis({ path: fresh.socket });
    expect(await client.get('concord:test')).toBe('kept');
    expect(await client.info('server')).not.toContain(`process_id:${orphan.pid}\r`);
    client.disconnect();
    await fresh.stop();
    expect(existsSync(fresh.socket)).toBe(false);
  });

  it('starts the server again when it dies, said once per restart, backing off while it keeps dying', async () => {
    const dataDir = tempDir();
    const server = await startPrivateRedis(dataDir, logger, { backoffMs: [50, 1_500] });
    const restarts: PrivateRedisRestart[] = [];
    server.onRestart((r) => restarts.push(r));
    const pidfile = join(dataDir, 'redis', 'redis.pid');
    const client = new Redis({ path: server.socket });
    client.on('error', () => {});
    await client.set('concord:test', 'kept');
    await client.call('WAITAOF', '1', '0', '0').catch(() => {});

    const kill = () => process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGKILL');
    const firstPid = readFileSync(pidfile, 'utf8');
    kill();
    await until(() => restarts.length === 1, 10_000);
    expect(readFileSync(pidfile, 'utf8')).not.toBe(firstPid);
    expect(restarts[0]).toMatchObject({ exit: 'SIGKILL', restarts: 1 });
    // The client reconnects to the same socket by itself, and the data is there.
    expect(await client.get('concord:test')).toBe('kept');

    kill();
    await until(() => restarts.length === 2, 10_000);
    // Dying again soon: the second start waits the longer backoff.
    expect(restarts[1]?.downMs).toBeGreaterThanOrEqual(1_500);
    expect(restarts).toHaveLength(2);
    client.disconnect();
    await server.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(restarts).toHaveLength(2);
    expect(existsSync(server.socket)).toBe(false);
  });

  it('says how to install Redis when there is no redis-server on PATH', async () => {
    const error = await startPrivateRedis(tempDir(), logger, '/nonexistent').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe(INSTALL_REDIS_HINT);
  });
});
