import type { Redis } from 'ioredis';
import type { PaceRate } from '../chat/port.js';
import { LOST } from '../redis/deadline.js';

/** One platform limit; the chat port's `PaceRate` (see `src/chat/port.ts`). */
export type Rate = PaceRate;

/**
 * GCRA (the generic cell rate algorithm) over several limits at once, atomically in Redis: each
 * key holds its theoretical arrival time (TAT, ms on Redis's clock). A send may go when every
 * key's TAT minus its burst tolerance has passed; that instant is reserved on every key, so the
 * next caller, in any process, gets the slot after it. Returns the wait in ms from now; or, when
 * the last argument (the longest wait worth reserving, -1 for any) is exceeded, reserves nothing
 * and returns the wait negated.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = now
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  tats[i] = tat
  local earliest = tat - interval * (burst - 1)
  if earliest > at then at = earliest end
end
local longest = tonumber(ARGV[2 * #KEYS + 1])
if longest >= 0 and at - now > longest then return now - at end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tat = tats[i]
  if at > tat then tat = at end
  tat = tat + interval
  redis.call('SET', key, tat, 'PX', math.ceil(tat - now) + 1000)
end
return at - now
`;

/**
 * Paces sends under platform limits shared by every process on the same Redis: `reserve`
 * returns how long to wait before sending, and the slot is the caller's. A caller that then does
 * not send leaves its slot unused; the limits are kept either way.
 */
export class Pacer {
  constructor(
    private readonly redis: Redis,
    /** Namespaces the keys, like the queues' prefix (`concord`). */
    private readonly prefix: string,
  ) {
    redis.defineCommand('concordPace', { lua: RESERVE });
  }

  /** The wait in ms before a send allowed by every one of `rates` (0: now). */
  async reserve(rates: readonly PaceRate[]): Promise<number> {
    return (await this.reserveWithin(rates, -1)).waitMs;
  }

  /**
   * Reserves the slot only when it comes within `longestWaitMs` (-1: whenever it comes); either
   * way says how long the wait is. A caller with better things to do than wait (a worker slot
   * other jobs need) hands the send to a queue instead, taking no slot from anyone.
   */
  async reserveWithin(
    rates: readonly PaceRate[],
    longestWaitMs: number,
  ): Promise<{ waitMs: number; reserved: boolean }> {
    if (rates.length === 0) return { waitMs: 0, reserved: true };
    for (const rate of rates) {
      if (!(rate.intervalMs > 0) || !Number.isInteger(rate.burst) || rate.burst < 1) {
        throw new Error(`invalid rate for ${rate.key}: ${rate.intervalMs} ms, burst ${rate.burst}`);
      }
    }
    // A client that lost Redis would hold the send until its command timeout; the caller sends
    // unpaced instead (see `waitTurn`).
    if (LOST.has(this.redis.status))
      throw new Error(`pacer: Redis not connected (${this.redis.status})`);
    const keys = rates.map((r) => `${this.prefix}:pace:${r.key}`);
    const args = rates.flatMap((r) => [String(r.intervalMs), String(r.burst)]);
    const run = (this.redis as unknown as PaceCommand).concordPace;
    const answer = Number(
      await run.call(this.redis, keys.length, ...keys, ...args, String(Math.floor(longestWaitMs))),
    );
    return answer < 0 ? { waitMs: -answer, reserved: false } : { waitMs: answer, reserved: true };
  }
}

interface PaceCommand {
  concordPace(this: Redis, numKeys: number, ...keysThenArgs: string[]): Promise<number>;
}
