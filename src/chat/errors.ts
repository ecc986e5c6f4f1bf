/**
 * Failures a chat adapter reports in the core's terms. Adapters translate their platform's errors
 * into these; transient 5xx are retried inside the adapter and surface only as `unavailable` once
 * retries are exhausted. Rate limits are mostly waited out inside the adapter too; an adapter may
 * instead hand one back as `rate_limited` where the caller can wait better (see that kind).
 */
export type ChatFailureKind =
  /** `createChannel`: a channel of that name exists; the core picks another name. */
  | 'name_taken'
  /** The bot lacks a scope or permission; `needed` says what a workspace admin must grant. */
  | 'missing_permission'
  /** The channel, message or user is gone, or the bot cannot see it. */
  | 'not_found'
  /** The platform kept failing (5xx, timeouts, 429 beyond the retry budget). */
  | 'unavailable'
  /**
   * The platform refused for now (a 429): nothing was sent; try again after `retryAfterMs`.
   * Discord answers a delivery's post (one with a `key`) this way, so the outbox re-queues it
   * for later instead of a worker waiting for the limit to pass.
   */
  | 'rate_limited'
  /** Anything else the platform refused; `detail` carries its error code. */
  | 'rejected';

export class ChatFailure extends Error {
  override readonly name = 'ChatFailure';
  constructor(
    readonly kind: ChatFailureKind,
    /** The platform's own error code or message, for logs, e.g. `name_taken`, `50013`. */
    readonly detail: string,
    /** For `missing_permission`: e.g. `the channels:manage scope`, `Manage Channels`. */
    readonly needed?: string,
    /** For `rate_limited`: how long the platform asked to wait, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(
      kind === 'missing_permission' && needed
        ? `missing permission: ${needed} (${detail})`
        : `${kind}: ${detail}`,
    );
  }

  /** A `rate_limited` failure: the platform asked to wait `retryAfterMs` before trying again. */
  static rateLimited(detail: string, retryAfterMs: number): ChatFailure {
    return new ChatFailure('rate_limited', detail, undefined, Math.max(0, Math.ceil(retryAfterMs)));
  }
}

export const isChatFailure = (error: unknown, kind?: ChatFailureKind): error is ChatFailure =>
  error instanceof ChatFailure && (kind === undefined || error.kind === kind);
