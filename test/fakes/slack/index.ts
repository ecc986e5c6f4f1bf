import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiState, type FakeCall, handleApiCall, type InjectedFailure } from './api.js';
import { DEFAULT_SCOPES } from './params.js';
import {
  type ActionInput,
  actionPayload,
  type CommandInput,
  commandFields,
  eventEnvelope,
  newEventId,
  newTriggerId,
  userEditEvent,
  userMessageEvent,
} from './payloads.js';
import { DEFAULT_RATE_LIMITS, PostLimiter, type RateLimitConfig } from './rate-limits.js';
import { ResponseUrls } from './response-urls.js';
import {
  buildRequest,
  type DeliveryOptions,
  type DeliveryResult,
  deliver,
  type SentRequest,
} from './signing.js';
import * as workspace from './workspace.js';

export type { FakeCall, InjectedFailure } from './api.js';
export { slackContractViolations, slackEnvelopeViolations } from './contract.js';
export type { FakeResponsePost } from './response-urls.js';
export { signSlackRequest } from './signing.js';
export type { FakeChannel, FakeMessage, FakeUser, SlackWorkspace } from './workspace.js';
export type { DeliveryOptions, DeliveryResult, RateLimitConfig, SentRequest };

export interface FakeSlackOptions {
  botToken?: string;
  signingSecret?: string;
  /** `false` turns the posting limits off; see `rate-limits.ts` for the defaults. */
  rateLimits?: Partial<RateLimitConfig> | false;
  /** Scopes granted to the bot token (default: everything Concord asks for). */
  scopes?: readonly string[];
}

/** What a command or button press returned, plus the response_url Slack handed the app. */
export type InteractionResult = DeliveryResult & { responseUrl: string; triggerId: string };

/**
 * A fake Slack on 127.0.0.1: the Web API under `/api/`, response URLs under `/respond/`, and
 * helpers that play Slack's side toward the app (signed commands, events and button presses).
 * Everything the app does is recorded for assertions.
 */
export class FakeSlack {
  readonly state = workspace.createWorkspace();
  /** Every Web API call, in arrival order. */
  readonly calls: FakeCall[] = [];
  /** Every Events API envelope sent to the app (for `slackEnvelopeViolations`). */
  readonly envelopes: Record<string, unknown>[] = [];
  /** Requests the app did not answer within 3 s: the user saw an error. */
  readonly ackTimeouts: { url: string; at: number; triggerId?: string; eventId?: string }[] = [];
  readonly scopes: Set<string>;
  /** Delay before every Web API answer, in ms. */
  latencyMs = 0;
  /**
   * Per method, how long an answer is held back after the call took effect: the window in which a
   * test can kill the app that made it. @example fake.holdAfter.set('conversations.create', 10_000)
   */
  readonly holdAfter = new Map<string, number>();
  readonly botToken: string;
  readonly signingSecret: string;
  private readonly failures = new Map<string, InjectedFailure[]>();
  private readonly limiter: PostLimiter;
  private readonly responseUrls: ResponseUrls;

  constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    options: FakeSlackOptions,
  ) {
    this.botToken = options.botToken ?? `xoxb-fake-${randomBytes(8).toString('hex')}`;
    this.signingSecret = options.signingSecret ?? randomBytes(16).toString('hex');
    this.scopes = new Set(options.scopes ?? DEFAULT_SCOPES);
    this.limiter = new PostLimiter(
      options.rateLimits === false ? false : { ...DEFAULT_RATE_LIMITS, ...options.rateLimits },
    );
    this.responseUrls = new ResponseUrls(this.state, `${baseUrl}/respond/`);
  }

  /** The Web API base the app is configured with (`SLACK_API_URL`). */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }
  /** The environment that points Concord at this fake. */
  concordEnv(): Record<string, string> {
    return {
      SLACK_BOT_TOKEN: this.botToken,
      SLACK_SIGNING_SECRET: this.signingSecret,
      SLACK_API_URL: this.apiUrl,
    };
  }
  /** Everything the app POSTed to response URLs. */
  get responses() {
    return this.responseUrls.posts;
  }
  /** Breaches of Slack's response_url rules (more than 5 posts, expired or unknown URL). */
  get responseViolations(): readonly string[] {
    return this.responseUrls.violations;
  }
  get botUserId(): string {
    return this.state.bot.userId;
  }

  /** @internal the request handler behind the HTTP server. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const api = /^\/api\/([\w.]+)$/.exec(path);
    if (api?.[1] && (req.method === 'POST' || req.method === 'GET')) {
      return handleApiCall(this.apiState(), api[1], req, res, query);
    }
    const respond = /^\/respond\/([\w-]+)$/.exec(path);
    if (respond?.[1] && req.method === 'POST')
      return this.responseUrls.handle(respond[1], req, res);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  }

  private apiState(): ApiState {
    return {
      ctx: () => ({ ws: this.state, scopes: this.scopes, nowMs: Date.now() }),
      botToken: this.botToken,
      calls: this.calls,
      failures: this.failures,
      limiter: this.limiter,
      latencyMs: () => this.latencyMs,
      holdAfter: (method) => this.holdAfter.get(method) ?? 0,
    };
  }

  addUser(user: Partial<workspace.FakeUser> & { name: string }): workspace.FakeUser {
    return workspace.addUser(this.state, user);
  }
  addChannel(channel: Partial<workspace.FakeChannel> & { name: string }): workspace.FakeChannel {
    return workspace.addChannel(this.state, channel);
  }
  channelByName(name: string): workspace.FakeChannel | undefined {
    return workspace.channelByName(this.state, name);
  }
  messagesIn(channel: string): workspace.FakeMessage[] {
    return workspace.messagesIn(this.state, channel);
  }
  /** The bot's direct-message conversation with `user` (`''` until the bot opens one). */
  dmWith(user: string): string {
    return this.state.ims.get(user) ?? '';
  }
  /** The replies in the thread of message `ts` of `channel`, oldest first. */
  repliesTo(channel: string, ts: string): workspace.FakeMessage[] {
    return this.messagesIn(channel).filter((m) => m.thread_ts === ts && m.ts !== ts);
  }
  /** Calls of one method, for assertions. */
  callsTo(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Makes the next call(s) of `method` fail as described. */
  failNext(method: string, failure: InjectedFailure): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ ...failure });
    this.failures.set(method, queue);
  }

  /**
   * Ends every failure `failNext` queued, `times: Infinity` ones included: an outage played with
   * `failNext(method, { status: 503, times: Infinity })` lasts until this is called.
   */
  clearFailures(): void {
    this.failures.clear();
  }

  /** Answers every `chat.postMessage` to `channel` with 429 for `seconds`. */
  rateLimitChannel(channel: string, seconds: number): void {
    this.limiter.force(channel, Date.now() + seconds * 1000);
  }

  /** Answers every `chat.postMessage`, to any channel, with 429 for `seconds`. */
  rateLimitAll(seconds: number): void {
    this.limiter.forceAll(Date.now() + seconds * 1000);
  }

  /** A person runs a slash command; the app gets it signed, form-encoded. */
  async sendCommand(
    url: string,
    input: CommandInput,
    options: DeliveryOptions = {},
  ): Promise<InteractionResult> {
    const { triggerId, responseUrl, body } = this.prepareCommand(input);
    const result = await this.send(url, body, 'application/x-www-form-urlencoded', options, {
      triggerId,
    });
    return { ...result, responseUrl, triggerId };
  }

  /**
   * The form body of a slash command with its response_url issued, for a caller that signs and
   * sends it by other means (`buildRequest`), from another process say.
   */
  prepareCommand(input: CommandInput): { triggerId: string; responseUrl: string; body: string } {
    const triggerId = input.trigger_id ?? newTriggerId();
    const where = { channel: input.channel_id, user: input.user_id };
    const responseUrl = this.responseUrls.issue(triggerId, where);
    const fields = commandFields(this.state, input, responseUrl, triggerId);
    return { triggerId, responseUrl, body: new URLSearchParams(fields).toString() };
  }

  /** A person presses a button; the app gets a signed `payload=` form with `block_actions`. */
  async sendAction(
    url: string,
    input: ActionInput,
    options: DeliveryOptions = {},
  ): Promise<InteractionResult> {
    const triggerId = input.trigger_id ?? newTriggerId();
    const where = { channel: input.channel_id, user: input.user_id };
    const responseUrl = this.responseUrls.issue(triggerId, where);
    const payload = actionPayload(this.state, input, responseUrl, triggerId);
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const result = await this.send(url, body, 'application/x-www-form-urlencoded', options, {
      triggerId,
    });
    return { ...result, responseUrl, triggerId };
  }

  /** Delivers one event in an Events API envelope; pass the same `eventId` for Slack's retries. */
  async sendEvent(
    url: string,
    event: Record<string, unknown>,
    options: DeliveryOptions & { eventId?: string } = {},
  ): Promise<DeliveryResult & { eventId: string }> {
    const eventId = options.eventId ?? newEventId();
    const envelope = eventEnvelope(this.state, event, eventId);
    this.envelopes.push(envelope);
    const result = await this.send(url, JSON.stringify(envelope), 'application/json', options, {
      eventId,
    });
    return { ...result, eventId };
  }

  /** Slack's check of a new Request URL: the app must echo the challenge. */
  async verifyUrl(url: string, challenge = randomBytes(12).toString('hex')) {
    const body = JSON.stringify({
      token: 'verification-token-unused',
      challenge,
      type: 'url_verification',
    });
    return { challenge, ...(await this.send(url, body, 'application/json', {}, {})) };
  }

  /** Sends an earlier request again, byte for byte: what an attacker who captured it would do. */
  async replay(request: SentRequest): Promise<DeliveryResult> {
    return this.track(await deliver(request), {});
  }

  /** A person posts in a channel or thread; returns the `message` event to send. */
  userPosts(channel: string, user: string, text: string, options: { threadTs?: string } = {}) {
    return userMessageEvent(this.state, channel, user, text, options);
  }
  /** A person edits their message; returns the `message_changed` event to send. */
  userEdits(channel: string, ts: string, text: string) {
    return userEditEvent(this.state, channel, ts, text);
  }

  private async send(
    url: string,
    body: string,
    type: 'application/json' | 'application/x-www-form-urlencoded',
    options: DeliveryOptions,
    ids: { triggerId?: string; eventId?: string },
  ): Promise<DeliveryResult> {
    const request = buildRequest(url, this.signingSecret, body, type, options);
    return this.track(await deliver(request), ids);
  }

  private track(result: DeliveryResult, ids: { triggerId?: string; eventId?: string }) {
    if (result.timedOut) this.ackTimeouts.push({ url: result.request.url, at: Date.now(), ...ids });
    return result;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts a fake Slack on an ephemeral port of 127.0.0.1. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  let fake: FakeSlack | undefined;
  const server = createServer((req, res) => {
    fake?.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake slack failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake = new FakeSlack(server, `http://127.0.0.1:${port}`, options);
  return fake;
}
