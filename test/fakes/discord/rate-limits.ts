import { createHash } from 'node:crypto';

/**
 * Discord's REST limits as the fake enforces them: a global limit per bot (50 requests a second;
 * interaction callbacks and interaction webhooks are exempt, as on Discord) and per-route buckets
 * keyed by the route's major parameter (channel, guild or webhook), so one channel running out
 * never limits another. Every answer carries the `X-RateLimit-*` headers discord.js reads; a 429
 * carries `Retry-After` and a JSON body with `retry_after` in seconds and `global`.
 */
export interface RateLimitConfig {
  globalPerSecond: number;
  /** POST /channels/{channel_id}/messages, per channel. */
  messages: { limit: number; windowMs: number };
  /** Every other route, per route and major parameter. */
  other: { limit: number; windowMs: number };
}

/** Discord's documented limits: 50/s globally, 5 messages per 5 s per channel. */
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  globalPerSecond: 50,
  messages: { limit: 5, windowMs: 5000 },
  other: { limit: 50, windowMs: 1000 },
};

/** Admitted with the headers to send, or refused with a 429 body. */
export type Verdict =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; headers: Record<string, string>; body: Record<string, unknown> };

interface Bucket {
  remaining: number;
  resetAt: number;
}

const seconds = (ms: number) => (Math.max(ms, 0) / 1000).toFixed(3);

/** Counts requests per bucket and globally; see the file comment. */
export class RateLimiter {
  private globalWindow = { start: 0, count: 0 };
  private readonly buckets = new Map<string, Bucket>();
  private readonly forced = new Map<string, number>();
  private forcedAll = 0;

  constructor(private readonly config: RateLimitConfig) {}

  /** Every request touching `channelId` is answered 429 for `secondsLimited`. */
  forceChannel(channelId: string, secondsLimited: number): void {
    this.forced.set(channelId, Date.now() + secondsLimited * 1000);
  }

  /** Every request touching any channel is answered 429 for `secondsLimited`. */
  forceAll(secondsLimited: number): void {
    this.forcedAll = Date.now() + secondsLimited * 1000;
  }

  check(
    method: string,
    template: string,
    params: Record<string, string>,
    interactionRoute: boolean,
  ): Verdict {
    if (interactionRoute) return { ok: true, headers: {} };
    const now = Date.now();
    const route = `${method} ${template}`;
    const hash = createHash('sha1').update(route).digest('hex').slice(0, 16);
    const major =
      params.channel_id ??
      params.guild_id ??
      (params.webhook_id ? `${params.webhook_id}/${params.webhook_token}` : '');
    const config =
      method === 'POST' && template === '/channels/{channel_id}/messages'
        ? this.config.messages
        : this.config.other;

    const forcedUntil = params.channel_id
      ? Math.max(this.forced.get(params.channel_id) ?? 0, this.forcedAll)
      : undefined;
    if (forcedUntil !== undefined && forcedUntil > now) {
      return this.limited(forcedUntil - now, false, {
        'X-RateLimit-Bucket': hash,
        'X-RateLimit-Limit': String(config.limit),
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': seconds(forcedUntil),
        'X-RateLimit-Reset-After': seconds(forcedUntil - now),
        'X-RateLimit-Scope': 'user',
      });
    }

    if (now - this.globalWindow.start >= 1000) this.globalWindow = { start: now, count: 0 };
    if (this.globalWindow.count >= this.config.globalPerSecond) {
      const wait = this.globalWindow.start + 1000 - now;
      return this.limited(wait, true, {
        'X-RateLimit-Global': 'true',
        'X-RateLimit-Scope': 'global',
      });
    }

    const key = `${hash}:${major}`;
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { remaining: config.limit, resetAt: now + config.windowMs };
      this.buckets.set(key, bucket);
    }
    const headers = {
      'X-RateLimit-Bucket': hash,
      'X-RateLimit-Limit': String(config.limit),
      'X-RateLimit-Reset': seconds(bucket.resetAt),
      'X-RateLimit-Reset-After': seconds(bucket.resetAt - now),
    };
    if (bucket.remaining <= 0) {
      return this.limited(bucket.resetAt - now, false, {
        ...headers,
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Scope': 'user',
      });
    }
    bucket.remaining--;
    this.globalWindow.count++;
    return { ok: true, headers: { ...headers, 'X-RateLimit-Remaining': String(bucket.remaining) } };
  }

  private limited(waitMs: number, global: boolean, headers: Record<string, string>): Verdict {
    return {
      ok: false,
      headers: { ...headers, 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) },
      body: {
        message: 'You are being rate limited.',
        retry_after: Number(seconds(waitMs)),
        global,
        code: 0,
      },
    };
  }
}
