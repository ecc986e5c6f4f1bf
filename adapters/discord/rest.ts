/**
 * The slice of discord.js's REST client (`client.rest`) the adapter calls. Typing against this
 * instead of discord.js's `REST` keeps discord.js types off the adapter's exported surface, and
 * every request still goes through discord.js's per-route rate-limit queues and retries.
 */
export interface RestRequest {
  body?: unknown;
  /** False for interaction callbacks and webhooks, which carry their own token. */
  auth?: boolean;
}

/** GET/POST/PUT/PATCH/DELETE on a route below `/api/v10`, resolving with the parsed JSON. */
export interface RestClient {
  get(route: `/${string}`, request?: RestRequest): Promise<unknown>;
  post(route: `/${string}`, request?: RestRequest): Promise<unknown>;
  put(route: `/${string}`, request?: RestRequest): Promise<unknown>;
  patch(route: `/${string}`, request?: RestRequest): Promise<unknown>;
  delete(route: `/${string}`, request?: RestRequest): Promise<unknown>;
}
