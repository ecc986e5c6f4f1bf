import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { connectRedis } from '../../src/redis/connect.js';
import {
  INSTALL_REDIS_HINT,
  RedisUnavailableError,
  startPrivateRedis,
} from '../../src/redis/private-server.js';

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

  it('reuses a server left running by a killed Concord instead of starting a second one', async () => {
    const dataDir = tempDir();
    const orphan = await startPrivateRedis(dataDir, logger);
    const adopted = await startPrivateRedis(dataDir, logger);
    expect(adopted.socket).toBe(orphan.socket);
    const client = new Redis({ path: adopted.socket });
    const info = await client.info('server');
    client.disconnect();
    expect(info).toMatch(/process_id:\d+/);
    await adopted.stop();
    await orphan.stop();
    expect(existsSync(orphan.socket)).toBe(false);
  });

  it('says how to install Redis when there is no redis-server on PATH', async () => {
    const error = await startPrivateRedis(tempDir(), logger, '/nonexistent').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe(INSTALL_REDIS_HINT);
  });
});
