/**
 * Failures a chat adapter reports in the core's terms. Adapters translate their platform's errors
 * into these; rate limits and transient 5xx are retried inside the adapter and surface only as
 * `unavailable` once retries are exhausted.
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
  ) {
    super(
      kind === 'missing_permission' && needed
        ? `missing permission: ${needed} (${detail})`
        : `${kind}: ${detail}`,
    );
  }
}

export const isChatFailure = (error: unknown, kind?: ChatFailureKind): error is ChatFailure =>
  error instanceof ChatFailure && (kind === undefined || error.kind === kind);
