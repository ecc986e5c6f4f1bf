import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { LOST, withinMs } from './deadline.js';

/**
 * GCRA, as the delivery pacer (`src/jobs/pacer.ts`) runs it, but refusing instead of queueing:
 * a command is let through when the key's theoretical arrival time (TAT) minus the burst
 * tolerance has passed, and then the TAT moves one interval on; otherwise nothing changes and
 * the script returns how long until the next command would be let through.
 * KEYS: the key; ARGV: interval ms, burst.
 */
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local earliest = tat - interval * (burst - 1)
if earliest > now then return earliest - now end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now) + 1000)
return 0
`;

/**
 * Commands a person may send at once before the per-minute rate applies: enough to open an
 * incident, invite its people and set its lead in one go.
 */
export const COMMAND_BURST = 10;

/** Redis answers the gate in a millisecond; past this it is taken to be out of reach. */
export const ADMIT_DEADLINE_MS = 250;

export interface CommandRate {
  /** Commands a minute each person may send, sustained. */
  perMinute: number;
  /** How many may come at once before the sustained rate applies. */
  burst: number;
}

/**
 * How many commands each person may send, counted in Redis so that every Concord instance
 * behind the same endpoints counts them together. `admit(user)` is 0 when the command may run,
 * otherwise the ms until one would be let through. With Redis out of reach the command is let
 * through (and the fault logged once): a person's command matters more than the limit, and
 * the platforms' own limits still hold. "Out of reach" includes no answer within
 * `ADMIT_DEADLINE_MS`: a reconnecting client would otherwise hold the command for seconds.
 */
export class CommandRateGate {
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly rate: CommandRate,
    private readonly logger: Logger,
  ) {
    if (!(rate.perMinute > 0) || !Number.isInteger(rate.burst) || rate.burst < 1) {
      throw new Error(`invalid command rate: ${rate.perMinute} a minute, burst ${rate.burst}`);
    }
    redis.defineCommand('concordAdmit', { numberOfKeys: 1, lua: ADMIT });
  }

  async admit(user: string): Promise<number> {
    const run = (this.redis as unknown as AdmitCommand).concordAdmit;
    try {
      // A reconnecting client would hold the command until its next attempt.
      if (LOST.has(this.redis.status)) throw new Error(`not connected (${this.redis.status})`);
      const wait = Number(
        await withinMs(
          ADMIT_DEADLINE_MS,
          'command rate limit',
          run.call(
            this.redis,
            `${this.prefix}:command-rate:${user}`,
            String(60_000 / this.rate.perMinute),
            String(this.rate.burst),
          ),
        ),
      );
      if (this.failing) this.logger.info('command rate limit counted again');
      this.failing = false;
      return wait;
    } catch (err) {
      if (!this.failing) {
        this.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'command rate limit not counted (Redis out of reach): commands let through',
        );
      }
      this.failing = true;
      return 0;
    }
  }
}

interface AdmitCommand {
  concordAdmit(this: Redis, key: string, intervalMs: string, burst: string): Promise<number>;
}
