import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { withinMs } from '../redis/deadline.js';

/**
 * This process, as `deliveries.claimed_by` names it: `host:pid:random`. The random part tells a
 * restarted process from the dead one it replaces when the pid is reused (in a container, the
 * main process is often pid 1 every time).
 */
export const PROCESS_CLAIMANT = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/** How long a liveness key outlives its last renewal, and how often Jobs renews it. */
export const LIVENESS_TTL_MS = 15_000;
export const LIVENESS_REFRESH_MS = 5_000;

/**
 * After a wiped (or brand new) Redis, every live process rewrites its key within one refresh;
 * until then a missing key proves nothing, and claims are left alone for this long.
 */
const SETTLE_MS = LIVENESS_REFRESH_MS + 2_000;
/**
 * How long `aliveSinceKey` outlives the last renewal: long enough that a fleet restarted after a
 * crash finds it still there (and need not wait out a settling period), short enough that the
 * keys of a test or a retired deployment go away by themselves.
 */
const SINCE_TTL_MS = 60 * 60_000;

/**
 * One renewal, atomically: the process's key, the marker that keys are being kept, and, when
 * the marker was missing (a new or wiped Redis), the settling period.
 * KEYS: alive, since, settling; ARGV: their lifetimes in ms.
 */
const RENEW = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
`;

/** `${prefix}:alive:${claimant}`: present while the claimant is running. */
export const aliveKey = (prefix: string, claimant: string) => `${prefix}:alive:${claimant}`;
/**
 * Present while liveness keys are kept on this Redis (until an hour past the last renewal);
 * gone after a wipe.
 */
export const aliveSinceKey = (prefix: string) => `${prefix}:alive-since`;
/** Present for `SETTLE_MS` after `aliveSinceKey` was (re)created. */
export const aliveSettlingKey = (prefix: string) => `${prefix}:alive-settling`;

/**
 * Renews this process's liveness key every `LIVENESS_REFRESH_MS` (an unref'd timer) until
 * `stop`, which deletes it. A renewal that fails (Redis down) is logged: the key then expires and
 * other processes may take this process's claims back once they are older than the grace period.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    readonly claimant: string = PROCESS_CLAIMANT,
  ) {}

  start(): void {
    if (this.timer) return;
    void this.renew();
    this.timer = setInterval(() => void this.renew(), LIVENESS_REFRESH_MS);
    this.timer.unref();
  }

  async renew(): Promise<void> {
    try {
      await this.redis.eval(
        RENEW,
        3,
        aliveKey(this.prefix, this.claimant),
        aliveSinceKey(this.prefix),
        aliveSettlingKey(this.prefix),
        LIVENESS_TTL_MS,
        SINCE_TTL_MS,
        SETTLE_MS,
      );
      if (this.failing) this.logger.info('liveness key renewed again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'liveness key not renewed; other processes may take over this one’s deliveries',
        );
      }
      this.failing = true;
    }
  }

  /**
   * Stops renewing and deletes the key, waiting at most `deadlineMs` for Redis: a key not
   * deleted expires by itself within `LIVENESS_TTL_MS`.
   */
  async stop(deadlineMs = 1_000): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await withinMs(
      deadlineMs,
      'deleting the liveness key',
      this.redis.del(aliveKey(this.prefix, this.claimant)),
    ).catch(() => {});
  }
}

/** The slice of a Redis client `deadClaimants` needs (BullMQ's queue client fits). */
export interface ExistsClient {
  exists(...keys: string[]): Promise<number>;
}

/**
 * Which of `claimants` hold no liveness key, i.e. are not running. None while a missing key
 * proves nothing: no liveness key was ever written on this Redis, or it was wiped moments ago
 * and the live processes have not rewritten theirs yet.
 */
export async function deadClaimants(
  redis: ExistsClient,
  prefix: string,
  claimants: readonly string[],
): Promise<string[]> {
  if (claimants.length === 0) return [];
  const [since, settling] = await Promise.all([
    redis.exists(aliveSinceKey(prefix)),
    redis.exists(aliveSettlingKey(prefix)),
  ]);
  if (since === 0 || settling === 1) return [];
  const alive = await Promise.all(claimants.map((c) => redis.exists(aliveKey(prefix, c))));
  return claimants.filter((_, i) => alive[i] === 0);
}
