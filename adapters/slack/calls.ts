import { setTimeout as sleep } from 'node:timers/promises';
import {
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
} from '@slack/web-api';
import { ChatFailure } from '../../src/chat/errors.js';
import type { Logger } from '../../src/log.js';

/**
 * How one Web API call survives Slack's failures. The WebClient is built with
 * `rejectRateLimitedCalls: true` and no retries of its own: its built-in 429 handling pauses the
 * client's whole request queue, so one rate-limited channel would stall posts to every other
 * channel. Here a 429 delays only the call that got it.
 */
export interface SlackRetryPolicy {
  /** Calls in all, when Slack keeps answering 429; each waits the `Retry-After` it was given. */
  rateLimitAttempts: number;
  /** The longest `Retry-After` worth waiting for; beyond it the call fails as `unavailable`. */
  maxRetryAfterMs: number;
  /** Waits before each retry of a 5xx, a network failure or a Slack-side internal error. */
  backoffMs: readonly number[];
}

export const DEFAULT_RETRY_POLICY: SlackRetryPolicy = {
  rateLimitAttempts: 5,
  maxRetryAfterMs: 60_000,
  backoffMs: [100, 200, 400, 800],
};

// Errors Slack documents as transient: worth the same retries as a 5xx.
const TRANSIENT_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);
const NOT_FOUND_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'message_not_found',
  'thread_not_found',
  'user_not_found',
]);

/** The Slack error code of a platform answer (`name_taken`), if that is what `error` is. */
export const slackErrorCode = (error: unknown): string | undefined =>
  error instanceof WebAPIPlatformError ? error.data.error : undefined;

function isTransient(error: unknown): boolean {
  if (error instanceof WebAPIRequestError) return true;
  if (error instanceof WebAPIHTTPError) return error.statusCode >= 500;
  const code = slackErrorCode(error);
  return code !== undefined && TRANSIENT_ERRORS.has(code);
}

function describe(error: unknown): string {
  if (error instanceof WebAPIHTTPError) return `http ${error.statusCode}`;
  if (error instanceof WebAPIRequestError) return `request failed: ${error.original.message}`;
  return slackErrorCode(error) ?? (error instanceof Error ? error.message : String(error));
}

/** Slack's answer in the core's terms (see `ChatFailureKind`). */
export function toChatFailure(error: unknown): ChatFailure {
  if (error instanceof ChatFailure) return error;
  const code = slackErrorCode(error);
  if (code === 'name_taken') return new ChatFailure('name_taken', code);
  if (code === 'missing_scope' && error instanceof WebAPIPlatformError) {
    const needed = (error.data as { needed?: unknown }).needed;
    return new ChatFailure(
      'missing_permission',
      code,
      typeof needed === 'string' ? `the ${needed} scope` : 'a scope the app lacks',
    );
  }
  if (code !== undefined && NOT_FOUND_ERRORS.has(code)) return new ChatFailure('not_found', code);
  if (isTransient(error)) return new ChatFailure('unavailable', describe(error));
  return new ChatFailure('rejected', describe(error));
}

/**
 * Runs one Web API call with the retry policy and returns its result, or throws a ChatFailure.
 * `what` names the call in logs (`chat.postMessage C0123`).
 *
 * A call that is not `repeatable` (a post: Slack has no idempotency key for it) is not made
 * again when its request failed without an answer (a timeout, a reset connection): it may have
 * landed all the same. It fails as `unavailable` instead, and the outbox's next attempt looks for
 * the earlier post before posting again. (Found by the fault suite: Slack answering 20 s late
 * made three copies of one card.) A 5xx answer or a 429 is retried as before: Slack did not
 * take the call.
 */
export async function callSlack<T>(
  what: string,
  call: () => Promise<T>,
  policy: SlackRetryPolicy,
  logger: Logger,
  options: { repeatable?: boolean } = {},
): Promise<T> {
  let limited = 0;
  let failed = 0;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (error instanceof WebAPIRateLimitedError) {
        limited++;
        const waitMs = error.retryAfter * 1000;
        if (limited >= policy.rateLimitAttempts || waitMs > policy.maxRetryAfterMs) {
          throw new ChatFailure(
            'unavailable',
            `rate limited (${what}, retry after ${error.retryAfter}s)`,
          );
        }
        logger.debug({ call: what, retryAfter: error.retryAfter }, 'slack rate limit: waiting');
        await sleep(waitMs);
        continue;
      }
      if (error instanceof WebAPIRequestError && options.repeatable === false) {
        logger.warn({ call: what, error: describe(error) }, 'slack did not answer; not repeated');
        throw new ChatFailure('unavailable', describe(error));
      }
      if (isTransient(error)) {
        const waitMs = policy.backoffMs[failed++];
        if (waitMs === undefined) {
          logger.warn({ call: what, error: describe(error) }, 'slack kept failing');
          throw new ChatFailure('unavailable', describe(error));
        }
        logger.debug({ call: what, error: describe(error), waitMs }, 'slack failed: retrying');
        await sleep(waitMs);
        continue;
      }
      throw toChatFailure(error);
    }
  }
}
