import { DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import { ChatFailure } from '../../src/chat/errors.js';

/**
 * Discord's failures in the core's terms. discord.js has already retried 5xx answers and network
 * errors (`retries`) and waited out 429s inside its per-route queues by the time an error gets
 * here, so what is left is final.
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
    return new ChatFailure(
      'unavailable',
      `rate limited for ${error.retryAfter} ms on ${error.route}`,
    );
  // Timeouts (AbortError) and network failures that outlasted discord.js's retries.
  const name = error instanceof Error ? error.name : typeof error;
  return new ChatFailure('unavailable', `${name}: ${error instanceof Error ? error.message : ''}`);
}
