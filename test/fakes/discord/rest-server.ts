import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RateLimitConfig, RateLimiter } from './rate-limits.js';
import { DiscordApiError, type FakeContext, matchRoute, type RouteDef } from './routes.js';
import { channelRoutes } from './routes-channels.js';
import { guildRoutes } from './routes-guild.js';
import { interactionRoutes } from './routes-interactions.js';

const ROUTES: readonly RouteDef[] = [...guildRoutes, ...channelRoutes, ...interactionRoutes];

/** One REST request as the fake received it. */
export interface RestCall {
  method: string;
  /** `POST /channels/{channel_id}/messages`, with the template from Discord's description; null: no such route. */
  route: string | null;
  /** The path below `/api/v10`, e.g. `/channels/1234/messages`. */
  path: string;
  query: Record<string, string>;
  /** The JSON body, or undefined when there was none. */
  body: unknown;
  /** When it arrived (ms). */
  at: number;
  /** What the fake answered. */
  status: number;
}

/** A failure to answer with instead of the real thing; see `FakeDiscord.failNext`. */
export interface InjectedFailure {
  status: number;
  /** Discord's JSON error code, e.g. 50013 Missing Permissions. */
  code?: number;
  message?: string;
  /** For 429: seconds until the bucket resets. */
  retryAfter?: number;
  /** How many requests to fail (default 1). */
  times?: number;
}

/** Which calls a failure applies to: `'POST /channels/{channel_id}/messages'`, a RegExp over `METHOD /path`, or a predicate. */
export type RouteMatcher = string | RegExp | ((call: RestCall) => boolean);

const json = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Discord's REST API under `/api/v10`: auth, injected failures, rate limits, then the route. */
export class RestServer {
  readonly calls: RestCall[] = [];
  latencyMs = 0;
  readonly limiter: RateLimiter;
  private readonly failures: {
    matches: (call: RestCall) => boolean;
    failure: InjectedFailure;
    left: number;
  }[] = [];

  constructor(
    private readonly ctx: FakeContext,
    private readonly botToken: string,
    limits: RateLimitConfig,
  ) {
    this.limiter = new RateLimiter(limits);
  }

  failNext(matcher: RouteMatcher, failure: InjectedFailure): void {
    const matches =
      typeof matcher === 'function'
        ? matcher
        : typeof matcher === 'string'
          ? (call: RestCall) => call.route === matcher || `${call.method} ${call.path}` === matcher
          : (call: RestCall) => matcher.test(`${call.method} ${call.path}`);
    this.failures.push({ matches, failure, left: failure.times ?? 1 });
  }

  /** Drops every queued failure, unlimited ones included. */
  clearFailures(): void {
    this.failures.splice(0);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    if (!url.pathname.startsWith('/api/v10/'))
      return json(res, 404, { message: '404: Not Found', code: 0 });
    const path = url.pathname.slice('/api/v10'.length);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return json(res, 400, { message: 'The request body contains invalid JSON.', code: 50109 });
      }
    }
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const matched = matchRoute(ROUTES, method, path);
    const call: RestCall = {
      method,
      route: matched ? `${method} ${matched.route.template}` : null,
      path,
      query: Object.fromEntries(url.searchParams),
      body,
      at: Date.now(),
      status: 0,
    };
    this.calls.push(call);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      json(res, status, payload, headers);
    };

    if (!matched) return answer(404, { message: '404: Not Found', code: 0 });
    const { route, params } = matched;
    if (!route.interactionRoute && req.headers.authorization !== `Bot ${this.botToken}`)
      return answer(401, { message: '401: Unauthorized', code: 0 });

    const injected = this.failures.find((f) => f.left > 0 && f.matches(call));
    if (injected) {
      injected.left--;
      return this.answerInjected(injected.failure, answer);
    }

    const verdict = this.limiter.check(
      method,
      route.template,
      params,
      route.interactionRoute ?? false,
    );
    if (!verdict.ok) return answer(429, verdict.body, verdict.headers);
    try {
      const reply = await route.handle({ params, body, query: url.searchParams }, this.ctx);
      answer(reply.status, reply.body, verdict.headers);
    } catch (error) {
      if (error instanceof DiscordApiError)
        return answer(error.status, { code: error.code, message: error.message }, verdict.headers);
      answer(500, { message: `500: Internal Server Error (${String(error)})`, code: 0 });
    }
  }

  private answerInjected(
    failure: InjectedFailure,
    answer: (status: number, payload: unknown, headers?: Record<string, string>) => void,
  ): void {
    if (failure.status === 429) {
      const wait = failure.retryAfter ?? 1;
      answer(
        429,
        { message: 'You are being rate limited.', retry_after: wait, global: false, code: 0 },
        {
          'Retry-After': String(Math.max(1, Math.ceil(wait))),
          'X-RateLimit-Limit': '5',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset-After': wait.toFixed(3),
          'X-RateLimit-Reset': ((Date.now() + wait * 1000) / 1000).toFixed(3),
          'X-RateLimit-Scope': 'user',
        },
      );
      return;
    }
    answer(failure.status, {
      code: failure.code ?? 0,
      message:
        failure.message ??
        (failure.status >= 500 ? `${failure.status}: Server Error` : 'Injected failure'),
    });
  }
}
