/**
 * Slack's posting limits, as the fake enforces them on `chat.postMessage`.
 *
 * Slack documents "about one message per second per channel, short bursts allowed" and a
 * workspace-wide ceiling. The fake models both as token buckets: per channel, `perChannelBurst`
 * messages at once, refilled at `perChannelPerSecond`; per workspace, `workspacePerMinute`
 * messages at once, refilled evenly over a minute. A post is admitted only when both buckets hold
 * a token; otherwise it is answered with HTTP 429 and `Retry-After` (whole seconds, at least 1)
 * and nothing is consumed.
 */
export interface RateLimitConfig {
  perChannelPerSecond: number;
  perChannelBurst: number;
  workspacePerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  perChannelPerSecond: 1,
  perChannelBurst: 3,
  workspacePerMinute: 300,
};

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** Milliseconds until a token is available (0: one is available now). */
  waitMs(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  take(): void {
    this.tokens -= 1;
  }
}

export class PostLimiter {
  private readonly channels = new Map<string, TokenBucket>();
  private workspace: TokenBucket | undefined;
  private readonly forced = new Map<string, number>();
  private forcedAll = 0;

  constructor(readonly config: RateLimitConfig | false) {}

  /** Answers every post to `channel` with 429 until `untilMs`. */
  force(channel: string, untilMs: number): void {
    this.forced.set(channel, untilMs);
  }

  /** Answers every post, to any channel, with 429 until `untilMs`. */
  forceAll(untilMs: number): void {
    this.forcedAll = untilMs;
  }

  /** `0` when the post is admitted (and counted), else the `Retry-After` in seconds. */
  admit(channel: string, now: number): number {
    const forcedUntil = Math.max(this.forced.get(channel) ?? 0, this.forcedAll);
    if (forcedUntil > now) return Math.max(1, Math.ceil((forcedUntil - now) / 1000));
    if (!this.config) return 0;
    const { perChannelBurst, perChannelPerSecond, workspacePerMinute } = this.config;
    let bucket = this.channels.get(channel);
    if (!bucket) {
      bucket = new TokenBucket(perChannelBurst, perChannelPerSecond / 1000, now);
      this.channels.set(channel, bucket);
    }
    this.workspace ??= new TokenBucket(workspacePerMinute, workspacePerMinute / 60_000, now);
    const wait = Math.max(bucket.waitMs(now), this.workspace.waitMs(now));
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
    bucket.take();
    this.workspace.take();
    return 0;
  }
}
