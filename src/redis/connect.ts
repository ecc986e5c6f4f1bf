import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { type PrivateRedis, startPrivateRedis } from './private-server.js';

export interface RedisHandle {
  /** How to reach Redis; BullMQ queues and workers open their own connections from this. */
  options: RedisOptions;
  /** A shared connection for health checks and small commands. */
  client: Redis;
  /** `external` when REDIS_URL was given, `private` when Concord runs its own server. */
  kind: 'external' | 'private';
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** BullMQ workers need `maxRetriesPerRequest: null`: a blocked worker must wait, not fail. */
export const BULLMQ_CONNECTION: RedisOptions = {
  maxRetriesPerRequest: null,
  enableReadyCheck: false,
};

export async function connectRedis(
  config: Pick<Config, 'REDIS_URL' | 'CONCORD_DATA_DIR'>,
  logger: Logger,
): Promise<RedisHandle> {
  let server: PrivateRedis | null = null;
  let options: RedisOptions;
  if (config.REDIS_URL) {
    const url = new URL(config.REDIS_URL);
    options =
      url.protocol === 'unix:'
        ? { path: url.pathname }
        : {
            host: url.hostname,
            port: Number(url.port || 6379),
            ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
            ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
            ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
            ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
          };
  } else {
    server = await startPrivateRedis(config.CONCORD_DATA_DIR, logger);
    options = { path: server.socket };
  }
  const client = new Redis({
    ...options,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
  });
  client.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await client.connect();
  return {
    options,
    client,
    kind: server ? 'private' : 'external',
    ping: async () => {
      await client.ping();
    },
    close: async () => {
      client.disconnect();
      await server?.stop();
    },
  };
}
