import type { Redis } from 'ioredis';
import { PROCESS_CLAIMANT } from '../jobs/liveness.js';
import type { Logger } from '../log.js';
import { withinMs } from './deadline.js';

/** How long a holder's claim outlives its last renewal, and how often every process tries. */
export const LEADERSHIP_TTL_MS = 15_000;
export const LEADERSHIP_REFRESH_MS = 5_000;

/**
 * Renews the claim if it is ours, takes it if nobody holds it (a new or wiped Redis, or a holder
 * that died and let it expire), and otherwise leaves it. Returns 1 when we hold it afterwards.
 * KEYS: the claim; ARGV: our name, the ttl in ms.
 */
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

/** Gives the claim up if it is still ours. KEYS: the claim; ARGV: our name. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** `Leadership.stop` by default: the work's stop, then giving the claim up. */
export const LEADERSHIP_STOP_DEADLINE_MS = 3_000;

/** The claim on the Discord gateway session among the processes sharing a key prefix. */
export const discordGatewayClaim = (prefix: string) => `${prefix}:leader:discord-gateway`;

export interface LeadershipHooks {
  /** This process now holds the claim: start the one-at-a-time work (resolves once started). */
  lead(): Promise<void>;
  /** It no longer does: stop that work. */
  follow(): Promise<void>;
}

export interface LeadershipOptions {
  ttlMs?: number;
  refreshMs?: number;
  /** Who this process is (default: `PROCESS_CLAIMANT`). */
  claimant?: string;
}

/**
 * One holder at a time among the processes sharing a Redis, for work that must not run twice
 * at once (the Discord gateway session). Every process tries every `refreshMs`: the holder
 * renews its claim, the others take it once it has expired, so when the holder dies another
 * takes over within `ttlMs + refreshMs` (20 s by default).
 *
 * While Redis is out of reach nobody can take the claim over, so the holder keeps its work
 * going rather than leaving nobody doing it; if Redis comes back with another holder (a wipe, a
 * partition), this one steps down at its next try. A moment with two holders is possible in
 * such a fault, never a moment's work done twice: what they do is idempotent on its own keys
 * (inbound events are claimed in Postgres).
 */
export class Leadership {
  private timer: NodeJS.Timeout | undefined;
  private hooks: LeadershipHooks | undefined;
  /** Whether this process holds the claim, as the last try found (or is starting to lead). */
  private holding = false;
  private started = false;
  /**
   * Starting and stopping the work, one after the other. Apart from the tries, so that a slow
   * start (a gateway login) never holds up the renewals that keep the claim.
   */
  private transitions: Promise<void> = Promise.resolve();
  private failing = false;
  readonly claimant: string;
  private readonly ttlMs: number;
  private readonly refreshMs: number;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly logger: Logger,
    options: LeadershipOptions = {},
  ) {
    this.claimant = options.claimant ?? PROCESS_CLAIMANT;
    this.ttlMs = options.ttlMs ?? LEADERSHIP_TTL_MS;
    this.refreshMs = options.refreshMs ?? LEADERSHIP_REFRESH_MS;
    redis.defineCommand('concordClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('concordRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  /** True while this process's work as the holder has started and not been stopped. */
  get leading(): boolean {
    return this.started;
  }

  /**
   * Tries at once and then every `refreshMs` until `stop`; resolves once the first try, and the
   * start of the work if it won the claim, are done.
   */
  async start(hooks: LeadershipHooks): Promise<void> {
    this.hooks = hooks;
    this.timer = setInterval(() => void this.tryNow(), this.refreshMs);
    this.timer.unref();
    await this.tryNow();
    await this.transitions;
  }

  /**
   * Stops trying, stops the work if it runs here, and gives the claim up for another to take;
   * within `deadlineMs` whatever is down: work that does not stop in time is left (the process
   * is on its way out), and a claim not given up expires on its own within `ttlMs`.
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    const end = Date.now() + (options.deadlineMs ?? LEADERSHIP_STOP_DEADLINE_MS);
    clearInterval(this.timer);
    this.timer = undefined;
    const held = this.holding;
    this.holding = false;
    this.transition(() => this.stepDown('stopping'));
    await withinMs(Math.max(0, end - Date.now()), 'stepping down', this.transitions).catch(
      (err: unknown) =>
        this.logger.warn(
          { key: this.key, err: err instanceof Error ? err.message : String(err) },
          'stepping down did not finish in time',
        ),
    );
    if (held)
      await withinMs(
        Math.max(0, end - Date.now()),
        'giving the claim up',
        this.commands().concordRelease(this.key, this.claimant),
      ).catch(() => {});
  }

  /** Renews or takes the claim, and starts or stops the work to match. */
  async tryNow(): Promise<void> {
    if (!this.hooks || !this.timer) return;
    let held: boolean;
    try {
      held = (await this.commands().concordClaim(this.key, this.claimant, this.ttlMs)) === 1;
      if (this.failing) this.logger.info({ key: this.key }, 'leadership claim reachable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.logger.warn(
          {
            key: this.key,
            err: err instanceof Error ? err.message : String(err),
            leading: this.holding,
          },
          'leadership claim not renewed (Redis out of reach); nothing changes until it answers',
        );
      }
      this.failing = true;
      return;
    }
    if (!this.timer) return; // stopped meanwhile
    if (held && !this.holding) {
      this.holding = true;
      this.transition(() => this.stepUp());
    } else if (!held && this.holding) {
      this.holding = false;
      this.transition(() => this.stepDown('another process holds the claim'));
    }
  }

  private transition(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step);
  }

  private async stepUp(): Promise<void> {
    if (!this.holding || !this.hooks) return;
    try {
      await this.hooks.lead();
      this.started = true;
      this.logger.info({ key: this.key, claimant: this.claimant }, 'leading');
    } catch (err) {
      // Let another process try: its start may well succeed where this one's did not.
      this.holding = false;
      this.logger.warn(
        { key: this.key, err: err instanceof Error ? err.message : String(err) },
        'could not start as leader; claim given up',
      );
      await this.commands()
        .concordRelease(this.key, this.claimant)
        .catch(() => {});
    }
  }

  private async stepDown(reason: string): Promise<void> {
    if (!this.started || !this.hooks) return;
    this.started = false;
    this.logger.info({ key: this.key, reason }, 'no longer leading');
    await this.hooks
      .follow()
      .catch((err: unknown) => this.logger.warn({ key: this.key, err }, 'stepping down failed'));
  }

  private commands(): ClaimCommands {
    return this.redis as unknown as ClaimCommands;
  }
}

interface ClaimCommands {
  concordClaim(key: string, claimant: string, ttlMs: number): Promise<number>;
  concordRelease(key: string, claimant: string): Promise<number>;
}
