import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { CHAT_METHODS } from './chat-methods.js';
import { CONVERSATION_METHODS } from './conversation-methods.js';
import { type Answer, fail, type MethodContext, type Params, scopesFor, str } from './params.js';
import type { PostLimiter } from './rate-limits.js';

const METHODS = { ...CONVERSATION_METHODS, ...CHAT_METHODS };

/** One Web API call as the fake saw it. */
export interface FakeCall {
  method: string;
  /** Arguments without `token`, as sent: strings when form-encoded. */
  params: Record<string, unknown>;
  /** Date.now() when it arrived. */
  at: number;
  /** HTTP status answered: 200 (also for `ok: false`), 429, or an injected 5xx. */
  status: number;
  /** Slack's error code when the answer was `ok: false`. */
  error?: string;
  /** Seconds, when answered with 429. */
  retryAfter?: number;
}

/** A failure to inject into the next calls of one method. */
export interface InjectedFailure {
  /** HTTP status to answer with (5xx, or 429 with `retryAfter`). */
  status?: number;
  /** Slack error code for an HTTP 200 `{ ok: false, error }`. */
  error?: string;
  /** For `missing_scope`: the scope Slack reports as `needed` (defaults to the method's own). */
  needed?: string;
  retryAfter?: number;
  /** How many calls fail; default 1, `Infinity` for an outage. */
  times?: number;
}

export interface ApiState {
  ctx: () => MethodContext;
  botToken: string;
  calls: FakeCall[];
  failures: Map<string, InjectedFailure[]>;
  limiter: PostLimiter;
  latencyMs: () => number;
  /** Extra delay after a method has taken effect, before its answer leaves (a crash window). */
  holdAfter: (method: string) => number;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseParams(req: IncomingMessage, body: string, query: string): Params {
  const type = req.headers['content-type'] ?? '';
  const params: Params = { ...flat(parseQuery(query)) };
  if (type.startsWith('application/json') && body) {
    Object.assign(params, JSON.parse(body) as Params);
  } else if (body) {
    Object.assign(params, flat(parseQuery(body)));
  }
  return params;
}

const flat = (q: Record<string, string | string[] | undefined>): Params =>
  Object.fromEntries(Object.entries(q).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]));

function takeFailure(state: ApiState, method: string): InjectedFailure | undefined {
  const queue = state.failures.get(method);
  const next = queue?.[0];
  if (!queue || !next) return undefined;
  const left = (next.times ?? 1) - 1;
  if (left <= 0) queue.shift();
  else next.times = left;
  return next;
}

interface Reply {
  status: number;
  answer: Answer;
  retryAfter?: number;
}

function answer(state: ApiState, method: string, params: Params, token: string | undefined): Reply {
  if (!token) return { status: 200, answer: fail('not_authed') };
  if (token !== state.botToken) return { status: 200, answer: fail('invalid_auth') };
  const ctx = state.ctx();
  const injected = takeFailure(state, method);
  if (injected) {
    const status = injected.status ?? (injected.retryAfter !== undefined ? 429 : 200);
    const error = injected.error ?? (status === 429 ? 'ratelimited' : 'internal_error');
    const needed =
      error === 'missing_scope'
        ? (injected.needed ?? scopesFor(method, ctx, params)[0])
        : undefined;
    return {
      status,
      answer: fail(error, needed ? { needed, provided: [...ctx.scopes].join(',') } : {}),
      ...(injected.retryAfter !== undefined ? { retryAfter: injected.retryAfter } : {}),
    };
  }
  const handler = METHODS[method];
  if (!handler) return { status: 200, answer: fail('unknown_method', { req_method: method }) };
  const needed = scopesFor(method, ctx, params).find((s) => !ctx.scopes.has(s));
  if (needed) {
    return {
      status: 200,
      answer: fail('missing_scope', { needed, provided: [...ctx.scopes].join(',') }),
    };
  }
  if (method === 'chat.postMessage') {
    const retryAfter = state.limiter.admit(str(params, 'channel') ?? '', ctx.nowMs);
    if (retryAfter > 0) return { status: 429, answer: fail('ratelimited'), retryAfter };
  }
  return { status: 200, answer: handler(ctx, params) };
}

/** Serves `/api/<method>`: token, injected failures, scopes, rate limits, then the method. */
export async function handleApiCall(
  state: ApiState,
  method: string,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
): Promise<void> {
  const at = Date.now();
  const body = await readBody(req);
  let params: Params;
  try {
    params = parseParams(req, body, query);
  } catch {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(fail('invalid_json')));
    return;
  }
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  const token = bearer ?? str(params, 'token');
  delete params.token;
  const latency = state.latencyMs();
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  const reply = answer(state, method, params, token);
  const error = reply.answer.ok ? undefined : String(reply.answer.error);
  state.calls.push({
    method,
    params,
    at,
    status: reply.status,
    ...(error ? { error } : {}),
    ...(reply.retryAfter !== undefined ? { retryAfter: reply.retryAfter } : {}),
  });
  const hold = state.holdAfter(method);
  if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
  const scopes = [...state.ctx().scopes].join(',');
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'x-oauth-scopes': scopes,
    ...(reply.retryAfter !== undefined ? { 'retry-after': String(reply.retryAfter) } : {}),
  });
  res.end(JSON.stringify(reply.answer));
}
