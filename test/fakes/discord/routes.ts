import type { FakeGateway } from './gateway.js';
import type { InteractionRegistry } from './interactions.js';
import type { FakeGuildState } from './state.js';

/** An error the way Discord answers one: HTTP status plus `{ code, message }`. */
export class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

// The error codes the fake answers with (Discord's numbers).
export const UNKNOWN_CHANNEL = () => new DiscordApiError(404, 10003, 'Unknown Channel');
export const UNKNOWN_MESSAGE = () => new DiscordApiError(404, 10008, 'Unknown Message');
export const UNKNOWN_USER = () => new DiscordApiError(404, 10013, 'Unknown User');
export const UNKNOWN_WEBHOOK = () => new DiscordApiError(404, 10015, 'Unknown Webhook');
export const UNKNOWN_INTERACTION = () => new DiscordApiError(404, 10062, 'Unknown interaction');
export const INVALID_FORM = (why: string) =>
  new DiscordApiError(400, 50035, `Invalid Form Body: ${why}`);

/** What route handlers may touch: the world, the gateway to announce changes, interactions. */
export interface FakeContext {
  state: FakeGuildState;
  gateway: FakeGateway;
  interactions: InteractionRegistry;
  applicationId: string;
  /** What GET /gateway/bot hands out: `ws://127.0.0.1:<port>/gateway`. */
  gatewayUrl: string;
}

/** A request as a route handler sees it. */
export interface RouteRequest {
  params: Record<string, string>;
  body: unknown;
  query: URLSearchParams;
}

/** A handler's answer: status and JSON body (none for 204). */
export interface RouteReply {
  status: number;
  body?: unknown;
}

/** One REST route of the fake. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path template exactly as Discord's OpenAPI description writes it. */
  template: string;
  /** Interaction callbacks and interaction webhooks need no bot token and skip the global limit. */
  interactionRoute?: boolean;
  handle(request: RouteRequest, ctx: FakeContext): RouteReply | Promise<RouteReply>;
}

/** A route with the path's parameters. */
export interface MatchedRoute {
  route: RouteDef;
  params: Record<string, string>;
}

/** Finds the route for a path; literal segments (`@me`, `@original`) win over parameters. */
export function matchRoute(
  routes: readonly RouteDef[],
  method: string,
  path: string,
): MatchedRoute | undefined {
  const segments = path.split('/').filter(Boolean);
  let best: { match: MatchedRoute; literals: number } | undefined;
  for (const route of routes) {
    if (route.method !== method) continue;
    const parts = route.template.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const ok = parts.every((part, i) => {
      const segment = decodeURIComponent(segments[i] ?? '');
      if (part.startsWith('{')) {
        params[part.slice(1, -1)] = segment;
        return segment !== '';
      }
      literals++;
      return part === segment;
    });
    if (ok && (!best || literals > best.literals)) best = { match: { route, params }, literals };
  }
  return best?.match;
}

/** A JSON object body, or a 400 like Discord's. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw INVALID_FORM('expected a JSON object');
  return body as Record<string, unknown>;
}

/** 200 with a body, or 204 without one. */
export const ok = (body?: unknown): RouteReply =>
  body === undefined ? { status: 204 } : { status: 200, body };
