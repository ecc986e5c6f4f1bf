import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Screen, ScreenVerdict } from '../../src/http/screen.js';

// Slack's replay window: a request more than five minutes from our clock, either way, is refused.
const WINDOW_MS = 5 * 60_000;
// Slack retries an event up to three times over about five minutes; remember ids a while longer.
const EVENT_MEMORY_MS = 60 * 60_000;

export interface SlackScreenOptions {
  signingSecret: string;
  /** Added to this machine's clock for the timestamp window (tests move it). */
  clockSkewMs?: number;
}

/** What the screen hands the receiver: the parsed payload and Slack's retry number, if any. */
export interface AcceptedSlackRequest {
  body: Record<string, unknown>;
  retryNum?: number;
}

/**
 * Keys remembered for a fixed time. In memory, so each process has its own: several instances
 * behind one Request URL will need a shared store for replay and retry detection (issue 6).
 */
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
  const { signingSecret, clockSkewMs = 0 } = options as SlackScreenOptions;
  const now = () => Date.now() + clockSkewMs;
  // A request stamped five minutes ahead stays acceptable for ten: remember it that long.
  const signatures = new ExpiringSet(WINDOW_MS * 2, now);
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

  return ({ headers, body: raw }) => {
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
    if (eventId) events.add(eventId);
    const accepted: AcceptedSlackRequest = {
      body,
      ...(retry !== undefined && Number.isInteger(Number(retry))
        ? { retryNum: Number(retry) }
        : {}),
    };
    return { answer: { status: 200 }, accepted };
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
  return parsed as Record<string, unknown>;
}
