import type { RedisOptions as BullRedisOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';

/**
 * BullMQ's own connection options from Concord's: where Redis is, and `maxRetriesPerRequest:
 * null`, which BullMQ workers need so a blocked worker waits instead of failing.
 */
export function bullConnection(options: RedisOptions): BullRedisOptions {
  const { host, port, path, username, password, db, tls } = options;
  return {
    ...(path ? { path } : { host, port }),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(tls ? { tls } : {}),
    maxRetriesPerRequest: null,
  };
}
