import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App, Receiver } from '@slack/bolt';
import type { HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/log.js';

const MAX_BODY_BYTES = 1024 * 1024;
// Slack's replay window: a request more than five minutes from our clock, either way, is refused.
const WINDOW_MS = 5 * 60_000;
// Slack retries an event up to three times over about five minutes; remember ids a while longer.
const EVENT_MEMORY_MS = 60 * 60_000;
// Listeners ack first thing; this only guards against one that never does, before Slack's 3 s.
const ACK_GUARD_MS = 2500;

export interface SlackReceiverOptions {
  signingSecret: string;
  http: HttpServer;
  logger: Logger;
  /** ms clock for the timestamp window; tests move it. */
  now?: () => number;
  /** Where Slack posts commands, interactions and events. */
  path?: string;
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

/** Reads the body unless it exceeds `limit`; then resolves `undefined` and discards the rest. */
function readLimited(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.off('data', onData);
        req.resume();
        resolve(undefined);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function reply(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined || body === '') {
    res.writeHead(status);
    res.end();
  } else if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(body);
  } else {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

/**
 * A Bolt receiver mounted on Concord's own HTTP server. It verifies each request as Slack signs
 * it, refuses stale and replayed ones, drops Slack's retries of events it already has, and hands
 * the rest to Bolt with an `ack` that writes the HTTP 200: listeners call it before any work, so
 * Slack gets its answer within its 3-second deadline however long the work takes.
 */
export class SlackReceiver implements Receiver {
  private app: App | undefined;
  private mounted = false;
  private running = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly signatures: ExpiringSet;
  private readonly events: ExpiringSet;

  constructor(private readonly options: SlackReceiverOptions) {
    this.now = options.now ?? Date.now;
    // A request stamped five minutes ahead stays acceptable for ten: remember it that long.
    this.signatures = new ExpiringSet(WINDOW_MS * 2, this.now);
    this.events = new ExpiringSet(EVENT_MEMORY_MS, this.now);
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {
    if (!this.mounted) {
      this.options.http.route('POST', this.options.path ?? '/slack/events', (req, res) =>
        this.handle(req, res),
      );
      this.mounted = true;
    }
    this.running = true;
  }

  /** Stops taking requests (the route answers 503) and waits for work already acknowledged. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled([...this.pending]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const app = this.app;
    if (!this.running || !app) return reply(res, 503, 'slack adapter stopped\n');
    const raw = await readLimited(req, MAX_BODY_BYTES);
    if (!raw) {
      res.setHeader('connection', 'close');
      return reply(res, 413, 'request body too large\n');
    }
    const text = raw.toString('utf8');
    const form = (header(req, 'content-type') ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    // Slack's certificate check carries no data and is answered without verification.
    if (form && new URLSearchParams(text).get('ssl_check') === '1') return reply(res, 200);
    const refused = this.verify(req, text);
    if (refused) {
      this.options.logger.warn({ reason: refused }, 'slack request refused');
      return reply(res, 401, 'invalid request\n');
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(text, form);
    } catch {
      return reply(res, 400, 'unreadable body\n');
    }
    if (body.type === 'url_verification') return reply(res, 200, { challenge: body.challenge });
    const retry = header(req, 'x-slack-retry-num');
    const eventId = typeof body.event_id === 'string' ? body.event_id : undefined;
    if (retry !== undefined && eventId && this.events.has(eventId)) {
      this.options.logger.debug({ eventId, retry }, 'slack retry of a delivered event dropped');
      return reply(res, 200);
    }
    const replayKey = `${header(req, 'x-slack-request-timestamp')}:${header(req, 'x-slack-signature')}`;
    if (this.signatures.has(replayKey)) {
      this.options.logger.warn('slack request replayed');
      return reply(res, 401, 'invalid request\n');
    }
    this.signatures.add(replayKey);
    if (eventId) this.events.add(eventId);
    this.dispatch(app, body, res, retry);
  }

  /** Why the request is not Slack's, or undefined when its signature and timestamp hold. */
  private verify(req: IncomingMessage, body: string): string | undefined {
    const timestamp = header(req, 'x-slack-request-timestamp');
    const signature = header(req, 'x-slack-signature');
    if (!timestamp || !signature) return 'unsigned';
    const seconds = Number(timestamp);
    if (!Number.isInteger(seconds)) return 'malformed timestamp';
    if (Math.abs(this.now() - seconds * 1000) > WINDOW_MS) return 'timestamp outside the window';
    const expected = `v0=${createHmac('sha256', this.options.signingSecret)
      .update(`v0:${timestamp}:${body}`)
      .digest('hex')}`;
    const given = Buffer.from(signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return 'bad signature';
    return undefined;
  }

  private dispatch(
    app: App,
    body: Record<string, unknown>,
    res: ServerResponse,
    retry: string | undefined,
  ): void {
    const logger = this.options.logger;
    let acked = false;
    const ack = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      clearTimeout(guard);
      reply(res, 200, response);
    };
    const guard = setTimeout(() => {
      if (acked) return;
      logger.warn('slack request not acknowledged by a listener in time; acknowledging');
      void ack();
    }, ACK_GUARD_MS);
    const work = app
      .processEvent({ body, ack, ...(retry !== undefined ? { retryNum: Number(retry) } : {}) })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'slack listener failed');
        if (!acked) {
          acked = true;
          reply(res, 500, 'internal error\n');
        }
      })
      .finally(() => {
        clearTimeout(guard);
        // Payloads no listener wants (shortcuts, view submissions) are acknowledged and ignored.
        void ack();
        this.pending.delete(work);
      });
    this.pending.add(work);
  }
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
