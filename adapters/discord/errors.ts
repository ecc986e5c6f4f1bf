import { AsyncLocalStorage } from 'node:async_hooks';
import { DiscordAPIError, HTTPError, type RateLimitData, RateLimitError } from 'discord.js';
import { ChatFailure } from '../../src/chat/errors.js';

/**
 * Discord's failures in the core's terms. discord.js has already retried 5xx answers and network
 * errors (`retries`) and waited out 429s inside its per-route queues by the time an error gets
 * here, so what is left is final; except a rate limit discord.js was told to hand back
 * (`rejectsRateLimit`), which becomes `rate_limited` with the wait Discord asked for.
 */

// Discord JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
const MISSING_ACCESS = 50001;
const MISSING_PERMISSIONS = 50013;
const NOT_FOUND_CODES = new Set([
  10003, // Unknown Channel
  10004, // Unknown Guild
  10007, // Unknown Member
  10008, // Unknown Message
  10013, // Unknown User
]);
/** The interaction was already acknowledged, by this process or another one. */
export const ALREADY_ACKNOWLEDGED = 40060;
/** The interaction is unknown: its 3 seconds passed, or it never existed. */
export const UNKNOWN_INTERACTION = 10062;
/** A thread already exists for that message. */
export const THREAD_ALREADY_EXISTS = 160004;

/** Set while a delivery's post is being made; see `handingBackRateLimits`. */
const deliveryPost = new AsyncLocalStorage<true>();

/**
 * Makes `request` (a delivery's post: one with a key) with its message posts' per-channel rate
 * limits handed back as `RateLimitError` (then `rate_limited`) instead of waited out inside
 * discord.js. The outbox that makes the post queues it again for after the wait, holding no
 * worker slot meanwhile, and the post then takes a fresh turn under the pacer; waited out here,
 * it would be sent the moment the limit lifts, unpaced, into Discord's global window. Other posts
 * (an incident channel's card and announcements) keep discord.js's waiting, in order.
 */
export function handingBackRateLimits<T>(request: () => Promise<T>): Promise<T> {
  return deliveryPost.run(true, request);
}

const MESSAGE_POST = '/channels/:id/messages';

/**
 * For discord.js's `rejectOnRateLimit`: whether a rate limit met by a request (a 429 answered,
 * or a bucket discord.js knows is empty) is thrown instead of waited out. A channel's limit on a
 * delivery's message post is (`handingBackRateLimits`); the global limit and every other route
 * are waited out, unless the wait is longer than `longestWaitMs`.
 */
export function rejectsRateLimit(limit: RateLimitData, longestWaitMs: number): boolean {
  if (limit.retryAfter > longestWaitMs) return true;
  return (
    deliveryPost.getStore() === true &&
    !limit.global &&
    limit.method.toUpperCase() === 'POST' &&
    limit.route === MESSAGE_POST
  );
}

/**
 * How long discord.js itself would have waited: until the bucket resets (`X-RateLimit-Reset-After`,
 * to the ms) when the bucket is empty, else the `Retry-After` (whole seconds, rounded up) of a
 * sublimit or the global limit.
 */
function rateLimitWaitMs(error: RateLimitError): number {
  const bucket = !error.global && error.sublimitTimeout <= 0 && error.timeToReset > 0;
  return bucket ? error.timeToReset : error.retryAfter;
}

/** The Discord error code of a REST failure, if it carried one. */
export function discordCode(error: unknown): number | undefined {
  return error instanceof DiscordAPIError && typeof error.code === 'number'
    ? error.code
    : undefined;
}

/**
 * Translates a REST failure. `needed` names the permission the operation needs, for the
 * administrator reading the error: e.g. `the Manage Channels and Manage Roles permissions`.
 */
export function toChatFailure(error: unknown, needed: string): ChatFailure {
  if (error instanceof ChatFailure) return error;
  if (error instanceof DiscordAPIError) {
    const code = String(error.code);
    if (error.code === MISSING_PERMISSIONS || error.code === MISSING_ACCESS)
      return new ChatFailure('missing_permission', code, needed);
    if (typeof error.code === 'number' && NOT_FOUND_CODES.has(error.code))
      return new ChatFailure('not_found', `${code} ${error.message}`);
    if (error.status >= 500) return new ChatFailure('unavailable', `HTTP ${error.status}`);
    return new ChatFailure('rejected', `${code} ${error.message}`);
  }
  if (error instanceof HTTPError) return new ChatFailure('unavailable', `HTTP ${error.status}`);
  if (error instanceof RateLimitError)
    return ChatFailure.rateLimited(
      `${error.global ? 'global ' : ''}rate limit on ${error.method.toUpperCase()} ${error.route} (${error.majorParameter})`,
      rateLimitWaitMs(error),
    );
  // Timeouts (AbortError) and network failures that outlasted discord.js's retries.
  const name = error instanceof Error ? error.name : typeof error;
  return new ChatFailure('unavailable', `${name}: ${error instanceof Error ? error.message : ''}`);
}
