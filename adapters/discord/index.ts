import { once } from 'node:events';
import {
  Client,
  Events,
  GatewayIntentBits,
  type RateLimitData,
  REST,
  RESTEvents,
  Routes,
} from 'discord.js';
import type { ChatInbound } from '../../src/chat/port.js';
import type { CommandRegistry } from '../../src/commands/spec.js';
import type { HttpServer } from '../../src/http/server.js';
import type { Logger } from '../../src/log.js';
import type { Leadership } from '../../src/redis/leadership.js';
import { ChannelDirectory } from './channels.js';
import { DiscordChat } from './chat.js';
import { applicationCommands } from './commands.js';
import { rejectsRateLimit, toChatFailure } from './errors.js';
import { listenToGateway } from './inbound.js';
import { InteractionRunner } from './interactions.js';
import { mountInteractionsEndpoint, publicKeyFromHex } from './interactions-endpoint.js';
import type { RestClient } from './rest.js';

/** The chat port implementation `startDiscord` returns. */
export { DiscordChat } from './chat.js';
/** Where the signed interactions endpoint is mounted: `/discord/interactions`. */
export { INTERACTIONS_PATH } from './interactions-endpoint.js';

/** Configuration of the Discord adapter; `adapters/platforms.ts` fills it from the config. */
export interface DiscordAdapterOptions {
  botToken: string;
  applicationId: string;
  guildId: string;
  /** DISCORD_API_URL: the REST base, e.g. `http://127.0.0.1:PORT/api` (discord.js adds `/v10`). */
  apiUrl?: string;
  /** DISCORD_PUBLIC_KEY (64 hex digits): mounts POST /discord/interactions on `http`. */
  publicKey?: string;
  http: HttpServer;
  inbound: ChatInbound;
  registry: CommandRegistry;
  logger: Logger;
  /** Clock in ms for the signed endpoint's timestamp window (tests). */
  now?: () => number;
  /** Per-request REST timeout (default 10 s); discord.js retries a timed-out request twice. */
  restTimeoutMs?: number;
  /** How long to wait for READY and the guild (default 30 s). */
  readyTimeoutMs?: number;
  /**
   * With several Concord processes, the one gateway session goes to whichever holds this
   * claim, and to another within seconds when that one dies. Without it, this process logs in
   * at once and holds a session for as long as it runs.
   */
  gatewayLeadership?: Leadership;
}

/** A running Discord adapter. */
export interface DiscordAdapter {
  chat: DiscordChat;
  /** The bot's own user id, from READY. */
  botUserId: string;
  close(): Promise<void>;
}

/**
 * Intents. GUILDS (channels and threads, for the cache that tells threads from channels),
 * GUILD_MESSAGES and DIRECT_MESSAGES (messages and edits to relay) are not privileged.
 * MESSAGE_CONTENT is privileged: it must be switched on for the bot in the Developer Portal (and
 * approved by Discord for bots in 100+ servers); without it message text arrives empty and
 * nothing can be relayed. GUILD_MEMBERS and GUILD_PRESENCES (privileged) are not needed.
 */
const INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.MessageContent,
  GatewayIntentBits.DirectMessages,
];

/** A wait this long inside discord.js's rate-limit queue is reported as `rate_limited` instead. */
const LONGEST_RATE_LIMIT_WAIT_MS = 30_000;
/** Discord's global limit per bot (discord.js's default, written out: see where it is used). */
const DISCORD_GLOBAL_PER_SECOND = 50;

/**
 * Starts the Discord adapter: logs in over the gateway, registers every command spec as a guild
 * slash command, listens for interactions and messages, and mounts the signed HTTP endpoint when
 * a public key is given. Resolves once the gateway is READY (guild received) and the commands
 * are registered.
 */
export async function startDiscord(options: DiscordAdapterOptions): Promise<DiscordAdapter> {
  const { logger } = options;
  if (options.publicKey) publicKeyFromHex(options.publicKey); // refuses a malformed key up front
  const restOptions = {
    ...(options.apiUrl ? { api: options.apiUrl.replace(/\/+$/, '') } : {}),
    // 5xx and network errors are retried at once; two retries, then `unavailable`.
    retries: 2,
    timeout: options.restTimeoutMs ?? 10_000,
    // 429s are waited out per route and major parameter (one channel's limit never holds up
    // another's), except a channel's limit on a delivery's post, handed back to the outbox to
    // wait out and pace again (`handingBackRateLimits`); a wait beyond the longest surfaces too.
    // Either way as `rate_limited`.
    rejectOnRateLimit: (limit: RateLimitData) =>
      rejectsRateLimit(limit, LONGEST_RATE_LIMIT_WAIT_MS),
    // discord.js's own global count (50 a second, per process) stays on top of the Redis
    // pacer: it counts one-second windows opened by a request, as Discord does, so when jitter
    // (a stall, a slow timer) bunches paced posts it holds the 51st of a window back to the
    // next one instead of letting it meet a global 429. Measured with the count raised out of
    // the way: 8 global 429s in a 200-post fan-out, the first letting a burst follow it.
    globalRequestsPerSecond: DISCORD_GLOBAL_PER_SECOND,
  };
  // Every request Concord makes goes through this one client; the gateway session, which only
  // some processes hold (see `gatewayLeadership`), has a client of its own around it.
  const rest = new REST(restOptions).setToken(options.botToken);
  rest.on(RESTEvents.RateLimited, (limit) =>
    logger.info(
      { route: limit.route, retryAfter: limit.retryAfter, global: limit.global },
      'discord rate limit',
    ),
  );

  let gateway: Client | undefined;
  const channels = new ChannelDirectory(rest, (id) => {
    const cached = gateway?.channels.cache.get(id);
    if (!cached) return undefined;
    return { type: cached.type, parentId: 'parentId' in cached ? (cached.parentId ?? null) : null };
  });
  const runner = new InteractionRunner({
    rest,
    applicationId: options.applicationId,
    inbound: options.inbound,
    registry: options.registry,
    logger,
  });

  /** Logs a new gateway session in; resolves at READY with the guild received. */
  const connect = async () => {
    const client = new Client({ intents: INTENTS, rest: restOptions });
    client.on(Events.Error, (err) => logger.error({ err }, 'discord client error'));
    client.on(Events.ShardError, (err) => logger.warn({ err }, 'discord gateway error'));
    client.on(Events.Warn, (message) => logger.warn({ message }, 'discord warning'));
    listenToGateway({
      client,
      rest,
      inbound: options.inbound,
      runner,
      channels,
      guildId: options.guildId,
      logger,
    });
    const ready = once(client, Events.ClientReady, {
      signal: AbortSignal.timeout(options.readyTimeoutMs ?? 30_000),
    });
    ready.catch(() => {}); // awaited below; this keeps an early login failure from going unhandled
    try {
      await Promise.all([client.login(options.botToken), ready]);
    } catch (error) {
      await client.destroy();
      throw error;
    }
    gateway = client;
    logger.info({ guild: options.guildId }, 'discord gateway session ready');
  };
  const disconnect = async () => {
    const client = gateway;
    gateway = undefined;
    await client?.destroy();
  };

  // Mounted before logging in, so Discord's PING on saving the endpoint URL in the Developer
  // Portal is answered as soon as the server listens.
  let open = true;
  if (options.publicKey) {
    mountInteractionsEndpoint({
      http: options.http,
      publicKey: options.publicKey,
      runner,
      logger,
      now: options.now ?? Date.now,
      isOpen: () => open,
    });
  }

  let botUserId: string;
  try {
    [botUserId] = await Promise.all([whoAmI(rest), registerCommands(options, rest)]);
    if (options.gatewayLeadership) {
      await options.gatewayLeadership.start({ lead: connect, follow: disconnect });
    } else {
      await connect();
    }
  } catch (error) {
    open = false;
    await disconnect();
    throw error;
  }

  logger.info({ guild: options.guildId, bot: botUserId }, 'discord adapter ready');
  return {
    chat: new DiscordChat({ rest, guildId: options.guildId, botUserId, channels }),
    botUserId,
    close: async () => {
      open = false;
      if (options.gatewayLeadership) await options.gatewayLeadership.stop();
      await disconnect();
    },
  };
}

/** The bot's own user id, over REST: a process without the gateway session gets no READY. */
async function whoAmI(rest: RestClient): Promise<string> {
  let me: { id?: unknown };
  try {
    me = (await rest.get(Routes.user('@me'))) as { id?: unknown };
  } catch (error) {
    throw toChatFailure(error, 'a valid bot token');
  }
  if (typeof me.id !== 'string') throw new Error('discord: /users/@me carried no id');
  return me.id;
}

/** One bulk overwrite: commands Concord no longer has disappear from Discord too. */
async function registerCommands(options: DiscordAdapterOptions, rest: RestClient): Promise<void> {
  const body = applicationCommands(options.registry);
  try {
    await rest.put(Routes.applicationGuildCommands(options.applicationId, options.guildId), {
      body,
    });
  } catch (error) {
    throw toChatFailure(error, 'the applications.commands scope in the guild');
  }
  options.logger.info({ commands: body.length }, 'discord commands registered');
}
