import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Redis, type RedisOptions } from 'ioredis';
import type { Screen, ScreenVerdict } from '../../src/http/screen.js';

// Slack's replay window: a request more than five minutes from our clock, either way, is refused.
const WINDOW_MS = 5 * 60_000;
// Slack retries an event up to three times over about five minutes; remember ids a while longer.
const EVENT_MEMORY_MS = 60 * 60_000;

export interface SlackScreenOptions {
  signingSecret: string;
  /** Added to this machine's clock for the timestamp window (tests move it). */
  clockSkewMs?: number;
  /**
   * Where the instances behind one Request URL remember what they have seen together: without
   * it each process remembers only its own requests.
   */
  shared?: SharedMemoryOptions;
}

export interface SharedMemoryOptions {
  /** How to reach Redis (structured-cloneable: the screen runs in the front-door thread). */
  redis: RedisOptions;
  /** Namespaces the keys (`concord`). */
  prefix: string;
}

/** What the screen hands the receiver: the parsed payload and Slack's retry number, if any. */
export interface AcceptedSlackRequest {
  body: Record<string, unknown>;
  retryNum?: number;
}

/** Keys remembered for a fixed time, in this process. */
class ExpiringSet {
  private readonly expiries = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  has(key: string): boolean {
    return (this.expiries.get(key) ?? 0) > this.now();
  }

  add(key: string): void {
    const now = this.now();
    // Insertion order is expiry order (one ttl), so expired keys are always at the front.
    for (const [k, expires] of this.expiries) {
      if (expires > now) break;
      this.expiries.delete(k);
    }
    this.expiries.delete(key);
    this.expiries.set(key, now + this.ttlMs);
  }
}

/**
 * The (timestamp, signature) pairs the instances behind one Request URL have seen, together:
 * a request replayed to another instance is refused there too. Only the pairs are shared, not
 * the event ids of Slack's retries: a retry may follow a first attempt that an instance took
 * and then died with, and must then be worked; when the first attempt was worked, the retry's
 * claim in Postgres is what stops it.
 *
 * A Redis that does not answer within a moment is passed over (each process's own memory still
 * refuses replays it saw itself), so Slack's acknowledgement never waits on it.
 */
class SharedSignatures {
  private readonly redis: Redis;
  private failing = false;

  constructor(private readonly options: SharedMemoryOptions) {
    this.redis = new Redis({
      ...options.redis,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: SHARED_TIMEOUT_MS,
    });
    this.redis.on('error', () => {}); // reported through `firstSight`'s notes instead
  }

  /**
   * Whether no instance has seen `replayKey` before (remembering it now), or undefined, with a
   * note the first time, when Redis does not answer.
   */
  async firstSight(replayKey: string): Promise<{ first?: boolean; note?: ScreenVerdict['note'] }> {
    try {
      const set = await this.redis.set(
        `${this.options.prefix}:slack:signature:${replayKey}`,
        '1',
        'PX',
        SIGNATURE_MEMORY_MS,
        'NX',
      );
      const note = this.failing
        ? { level: 'warn' as const, msg: 'slack replay memory shared again' }
        : undefined;
      this.failing = false;
      return { first: set === 'OK', ...(note ? { note } : {}) };
    } catch (err) {
      const note = this.failing
        ? undefined
        : {
            level: 'warn' as const,
            msg: 'slack replay memory not shared (Redis out of reach): this process remembers alone',
            fields: { err: err instanceof Error ? err.message : String(err) },
          };
      this.failing = true;
      return note ? { note } : {};
    }
  }
}

// Redis answers in well under a millisecond; a tenth of a second means it is not answering.
const SHARED_TIMEOUT_MS = 100;
// A request stamped five minutes ahead stays acceptable for ten: remember it that long.
const SIGNATURE_MEMORY_MS = WINDOW_MS * 2;

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const refused = (reason: string): ScreenVerdict => ({
  answer: { status: 401, body: 'invalid request\n' },
  note: { level: 'warn', msg: 'slack request refused', fields: { reason } },
});

/**
 * Slack's requests at `/slack/events`, answered at once: verified as Slack signs them (HMAC of
 * `v0:timestamp:body`), refused when stamped more than five minutes off either way or when a
 * (timestamp, signature) pair comes twice, Slack's retries of an event already accepted dropped,
 * the URL check and the certificate check answered, and everything else acknowledged with an
 * empty 200 before any work: commands, buttons and events all get their results later, through
 * `response_url` or posts. Used by the front door in the running process (`createScreen`).
 */
export function createScreen(options: unknown): Screen {
  const { signingSecret, clockSkewMs = 0, shared } = options as SlackScreenOptions;
  const sharedSignatures = shared ? new SharedSignatures(shared) : undefined;
  const now = () => Date.now() + clockSkewMs;
  const signatures = new ExpiringSet(SIGNATURE_MEMORY_MS, now);
  const events = new ExpiringSet(EVENT_MEMORY_MS, now);

  const verify = (headers: IncomingHttpHeaders, body: string): string | undefined => {
    const timestamp = header(headers, 'x-slack-request-timestamp');
    const signature = header(headers, 'x-slack-signature');
    if (!timestamp || !signature) return 'unsigned';
    const seconds = Number(timestamp);
    if (!Number.isInteger(seconds)) return 'malformed timestamp';
    if (Math.abs(now() - seconds * 1000) > WINDOW_MS) return 'timestamp outside the window';
    const expected = `v0=${createHmac('sha256', signingSecret)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')}`;
    const given = Buffer.from(signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return 'bad signature';
    return undefined;
  };

  return async ({ headers, body: raw }) => {
    const text = raw.toString('utf8');
    const form = (header(headers, 'content-type') ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    // Slack's certificate check carries no data and is answered without verification.
    if (form && new URLSearchParams(text).get('ssl_check') === '1')
      return { answer: { status: 200 } };
    const reason = verify(headers, text);
    if (reason) return refused(reason);
    let body: Record<string, unknown>;
    try {
      body = parseBody(text, form);
    } catch {
      return { answer: { status: 400, body: 'unreadable body\n' } };
    }
    if (body.type === 'url_verification') {
      return { answer: { status: 200, body: { challenge: body.challenge } } };
    }
    const retry = header(headers, 'x-slack-retry-num');
    const eventId = typeof body.event_id === 'string' ? body.event_id : undefined;
    if (retry !== undefined && eventId && events.has(eventId)) {
      return {
        answer: { status: 200 },
        note: {
          level: 'debug',
          msg: 'slack retry of a delivered event dropped',
          fields: { eventId, retry },
        },
      };
    }
    const replayKey = `${header(headers, 'x-slack-request-timestamp')}:${header(headers, 'x-slack-signature')}`;
    if (signatures.has(replayKey)) return refused('replayed');
    signatures.add(replayKey);
    const elsewhere = await sharedSignatures?.firstSight(replayKey);
    if (elsewhere?.first === false) return refused('replayed');
    const note = elsewhere?.note;
    if (eventId) events.add(eventId);
    const accepted: AcceptedSlackRequest = {
      body,
      ...(retry !== undefined && Number.isInteger(Number(retry))
        ? { retryNum: Number(retry) }
        : {}),
    };
    return { answer: { status: 200 }, accepted, ...(note ? { note } : {}) };
  };
}

function parseBody(text: string, form: boolean): Record<string, unknown> {
  const fields = form ? new URLSearchParams(text) : undefined;
  // Interactivity arrives as one `payload` field of JSON; slash commands as plain fields.
  if (fields && !fields.has('payload')) return Object.fromEntries(fields.entries());
  const parsed: unknown = JSON.parse(fields?.get('payload') ?? text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('not a JSON object');
  }
  if (depthOf(parsed, MAX_DEPTH) > MAX_DEPTH) throw new Error('nested too deep');
  return parsed as Record<string, unknown>;
}

/**
 * Slack's payloads nest a dozen levels at most. Deeper is refused: what the screen accepts is
 * copied to the main thread, and a signed body 16,000 levels deep overflowed that copy's stack
 * and took the front-door thread down (found by the fuzz, test/fuzz).
 */
const MAX_DEPTH = 64;

/** How deep `value` nests, counting no further than `limit + 1`. */
function depthOf(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depthOf(child, limit - 1));
    if (deepest > limit) break;
  }
  return deepest + 1;
}
