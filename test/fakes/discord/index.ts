import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { dispatchChannel } from './events.js';
import { FakeGateway, INTENT } from './gateway.js';
import { randomToken, snowflake } from './ids.js';
import { type AckResult, InteractionRegistry } from './interactions.js';
import { guildCreateJson } from './json.js';
import { type ButtonInput, buttonPayload, type CommandInput, commandPayload } from './payloads.js';
import { editUserMessage, sendUserMessage, type UserMessageInput } from './people.js';
import { DEFAULT_RATE_LIMITS, type RateLimitConfig } from './rate-limits.js';
import { type InjectedFailure, RestServer, type RouteMatcher } from './rest-server.js';
import type { FakeContext } from './routes.js';
import {
  deliverSigned,
  InteractionSigner,
  type SignedDeliveryOptions,
  type SignedDeliveryResult,
  type SignedRequest,
} from './signing.js';
import {
  addTextChannel,
  CHANNEL,
  createGuildState,
  type FakeChannel,
  type FakeMessage,
  type FakeUser,
  makeUser,
  messagesIn,
} from './state.js';

export { discordContractViolations } from './contract.js';
export type { AckResult, FakeInteraction } from './interactions.js';
export * from './json.js';
export type { ButtonInput, CommandInput } from './payloads.js';
export type { UserMessageInput } from './people.js';
export type { InjectedFailure, RestCall, RouteMatcher } from './rest-server.js';
export * from './state.js';

/** How to set up a fake Discord; everything has Discord's defaults. */
export interface FakeDiscordOptions {
  /** Gateway heartbeat interval handed out in HELLO (default 41,250 ms, Discord's). */
  heartbeatIntervalMs?: number;
  /** Whether MESSAGE_CONTENT is switched on "in the portal" (default true). */
  messageContentIntent?: boolean;
  rateLimits?: Partial<RateLimitConfig>;
}

/**
 * A fake Discord on 127.0.0.1: REST under `apiUrl` (`…/api`, discord.js adds `/v10`), the gateway
 * at the URL GET /gateway/bot returns, and helpers that play Discord's side toward the bot.
 */
export class FakeDiscord {
  readonly applicationId = snowflake();
  /** Shaped like Discord's: base64 of the bot's id, then two random parts. */
  readonly botToken =
    `${Buffer.from(this.applicationId).toString('base64url')}.${randomToken('t')}`;
  readonly state = createGuildState(this.applicationId);
  readonly guildId = this.state.guild.id;
  readonly botUserId = this.applicationId;
  readonly interactions = new InteractionRegistry();
  readonly gateway: FakeGateway;
  readonly apiUrl: string;
  private readonly signer = new InteractionSigner();
  /** The application's Ed25519 public key, 64 hex digits (DISCORD_PUBLIC_KEY). */
  readonly publicKey = this.signer.publicKey;
  private readonly rest: RestServer;
  private readonly ctx: FakeContext;
  private lastSigned: SignedRequest | undefined;

  constructor(
    private readonly server: Server,
    port: number,
    options: FakeDiscordOptions,
  ) {
    this.apiUrl = `http://127.0.0.1:${port}/api`;
    const gatewayUrl = `ws://127.0.0.1:${port}/gateway`;
    this.gateway = new FakeGateway({
      token: this.botToken,
      bot: this.state.bot,
      applicationId: this.applicationId,
      guildId: this.guildId,
      url: gatewayUrl,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      allowedPrivilegedIntents: options.messageContentIntent === false ? 0 : INTENT.messageContent,
      guildCreate: () => guildCreateJson(this.state),
    });
    this.ctx = {
      state: this.state,
      gateway: this.gateway,
      interactions: this.interactions,
      applicationId: this.applicationId,
      gatewayUrl,
    };
    this.rest = new RestServer(this.ctx, this.botToken, {
      ...DEFAULT_RATE_LIMITS,
      ...options.rateLimits,
    });
    server.on('request', (req, res) => void this.rest.handle(req, res));
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://fake').pathname === '/gateway')
        this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  /** Every REST call, in arrival order. */
  get calls() {
    return this.rest.calls;
  }
  /** Delay before every REST answer, in ms. */
  /** The environment that points Concord at this fake. */
  concordEnv(): Record<string, string> {
    return {
      DISCORD_BOT_TOKEN: this.botToken,
      DISCORD_APPLICATION_ID: this.applicationId,
      DISCORD_GUILD_ID: this.guildId,
      DISCORD_API_URL: this.apiUrl,
    };
  }

  get latencyMs() {
    return this.rest.latencyMs;
  }
  set latencyMs(ms: number) {
    this.rest.latencyMs = ms;
  }

  /** A person already in the guild. */
  user(name: 'alice' | 'bob' | string): FakeUser {
    const user = [...this.state.users.values()].find((u) => u.username === name);
    if (!user) throw new Error(`fake Discord: no user ${name}`);
    return user;
  }
  channel(name: string): FakeChannel {
    const channel = [...this.state.channels.values()].find((c) => c.name === name);
    if (!channel) throw new Error(`fake Discord: no channel ${name}`);
    return channel;
  }

  /** A channel's messages, oldest first (a thread's id is that of the message it hangs off). */
  messagesIn(channelId: string): FakeMessage[] {
    return messagesIn(this.state, channelId);
  }

  /** The bot's DM channel with a person (`''` until the bot opens one). */
  dmWith(userId: string): string {
    const dm = [...this.state.channels.values()].find(
      (c) => c.type === CHANNEL.dm && c.recipients?.[0]?.id === userId,
    );
    return dm?.id ?? '';
  }

  addMember(username: string, options: { bot?: boolean } = {}): FakeUser {
    const user = makeUser(username, options.bot ?? false);
    this.state.users.set(user.id, user);
    this.state.members.add(user.id);
    return user;
  }

  addChannel(name: string): FakeChannel {
    const channel = addTextChannel(this.state, name);
    dispatchChannel(this.ctx, 'create', channel);
    return channel;
  }

  /** Answers the next matching REST call(s) with a failure instead. */
  failNext(matcher: RouteMatcher, failure: InjectedFailure): void {
    this.rest.failNext(matcher, failure);
  }

  /**
   * Ends every failure `failNext` queued, `times: Infinity` ones included: an outage played with
   * `failNext(matcher, { status: 503, times: Infinity })` lasts until this is called.
   */
  clearFailures(): void {
    this.rest.clearFailures();
  }

  /** Puts one channel in 429 for `seconds`: every request on it is refused until then. */
  rateLimitChannel(channelId: string, seconds: number): void {
    this.rest.limiter.forceChannel(channelId, seconds);
  }

  /** Puts every channel in 429 for `seconds`, as `rateLimitChannel` does one. */
  rateLimitAll(seconds: number): void {
    this.rest.limiter.forceAll(seconds);
  }

  commandPayload(input: CommandInput): Record<string, unknown> {
    return commandPayload(this.ctx, input);
  }
  buttonPayload(input: ButtonInput): Record<string, unknown> {
    return buttonPayload(this.ctx, input);
  }

  /** Issues a slash command over the gateway; resolves with the first answer or at the 3 s deadline. */
  sendCommand(input: CommandInput): Promise<AckResult> {
    return this.deliver(commandPayload(this.ctx, input));
  }

  /** Presses a button over the gateway; resolves like `sendCommand`. */
  sendButton(input: ButtonInput): Promise<AckResult> {
    return this.deliver(buttonPayload(this.ctx, input));
  }

  /** Dispatches an interaction that was already delivered once, with the same id and token. */
  redeliver(interactionId: string): Promise<AckResult> {
    const interaction = this.interactions.all.get(interactionId);
    if (!interaction) throw new Error(`fake Discord: no interaction ${interactionId}`);
    this.gateway.dispatch('INTERACTION_CREATE', interaction.payload);
    return this.interactions.waitForAck(interaction);
  }

  private deliver(payload: Record<string, unknown>): Promise<AckResult> {
    const interaction = this.interactions.register(payload, 'gateway');
    this.gateway.dispatch('INTERACTION_CREATE', payload);
    return this.interactions.waitForAck(interaction);
  }

  /** A person writes in a channel or thread: MESSAGE_CREATE (thread start: THREAD_CREATE first). */
  sendMessage(input: UserMessageInput): FakeMessage {
    return sendUserMessage(this.ctx, input);
  }

  /** A person edits their message: MESSAGE_UPDATE with a new `edited_timestamp`. */
  editMessage(input: { message: string; content: string }): FakeMessage {
    return editUserMessage(this.ctx, input);
  }

  /** Hex Ed25519 signature of `timestamp + body` with the application's key. */
  sign(timestamp: string, body: string): string {
    return this.signer.sign(timestamp, body);
  }

  /**
   * Delivers an interaction to the bot's HTTP endpoint as Discord would, signed. The bot's HTTP
   * answer counts as the interaction's callback (3 s deadline, once only), and the interaction's
   * token then works for the webhook routes.
   */
  async postSignedInteraction(
    url: string,
    payload: Record<string, unknown>,
    options: SignedDeliveryOptions = {},
  ): Promise<SignedDeliveryResult> {
    let request: SignedRequest;
    if (options.replay) {
      if (!this.lastSigned) throw new Error('fake Discord: nothing to replay');
      request = this.lastSigned;
    } else {
      const body = JSON.stringify(payload);
      const timestamp = String(Math.floor(Date.now() / 1000) + (options.skewSeconds ?? 0));
      request = { body, timestamp, signature: this.signer.sign(timestamp, body, options.forge) };
    }
    this.lastSigned = request;
    const sent = JSON.parse(request.body) as Record<string, unknown>;
    const interaction =
      sent.type === 2 || sent.type === 3 ? this.interactions.register(sent, 'http') : undefined;
    let answered = () => {};
    if (interaction && !interaction.ack)
      interaction.httpAnswered = new Promise<void>((resolve) => {
        answered = resolve;
      });
    try {
      const result = await deliverSigned(url, request);
      if (interaction) this.interactions.answeredOverHttp(interaction, result.status, result.body);
      return { ...result, request };
    } finally {
      answered();
    }
  }

  /** Polls until `check` returns something truthy (default 5 s), for effects that follow an answer. */
  async waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > until) throw new Error('fake Discord: waitFor timed out');
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a fake Discord on a free port of 127.0.0.1. */
export async function startFakeDiscord(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new FakeDiscord(server, (server.address() as AddressInfo).port, options);
}
