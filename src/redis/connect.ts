import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { LOST, withinMs } from './deadline.js';
import {
  type PrivateRedis,
  type PrivateRedisRestart,
  startPrivateRedis,
} from './private-server.js';

export interface RedisHandle {
  /** How to reach Redis; BullMQ queues and workers open their own connections from this. */
  options: RedisOptions;
  /** A shared connection for health checks and small commands. */
  client: Redis;
  /** `external` when REDIS_URL was given, `private` when Concord runs its own server. */
  kind: 'external' | 'private';
  ping(): Promise<void>;
  /**
   * Calls `listener` each time the private redis-server died and was started again (never, for
   * an external Redis): the shell says so on the terminal.
   */
  onRestart(listener: (restart: PrivateRedisRestart) => void): void;
  /** Disconnects and stops the private server; bounded (`PrivateRedis.stop` kills after 3 s). */
  close(): Promise<void>;
}

/**
 * The shared client's commands (health pings, the command rate gate, leadership claims) fail
 * after this rather than wait for a Redis that is gone.
 */
export const SHARED_COMMAND_TIMEOUT_MS = 1_000;

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
    commandTimeout: SHARED_COMMAND_TIMEOUT_MS,
  });
  client.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    await server?.stop();
    throw err;
  }
  return {
    options,
    client,
    kind: server ? 'private' : 'external',
    ping: async () => {
      // A client reconnecting would hold the ping until its next attempt: down is down now.
      if (LOST.has(client.status)) throw new Error(`not connected (${client.status})`);
      await withinMs(SHARED_COMMAND_TIMEOUT_MS, 'redis ping', client.ping());
    },
    onRestart: (listener) => server?.onRestart(listener),
    close: async () => {
      client.disconnect();
      await server?.stop();
    },
  };
}
