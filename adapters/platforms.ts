import type { RedisOptions } from 'ioredis';
import type { ChatInbound } from '../src/chat/port.js';
import type { ChatPlatform } from '../src/chat/refs.js';
import type { Config } from '../src/config.js';
import { discordEnabled, slackEnabled } from '../src/config.js';
import type { Core } from '../src/core.js';
import type { HttpServer } from '../src/http/server.js';
import type { Logger } from '../src/log.js';
import type { Leadership } from '../src/redis/leadership.js';
import type { DiscordAdapter } from './discord/index.js';
import type { SlackAdapter } from './slack/index.js';

export interface Platforms {
  /** The platforms that started, by name. */
  readonly running: string[];
  /** The adapters themselves, for tests that drive them. */
  readonly adapters: { slack?: SlackAdapter; discord?: DiscordAdapter };
  close(): Promise<void>;
}

/**
 * Starts the Slack and Discord adapters the configuration turns on, mounts their endpoints on the
 * shared HTTP server and registers them with the core. Either one may run alone.
 */
export async function startPlatforms(options: {
  config: Config;
  core: Core;
  http: HttpServer;
  logger: Logger;
  /** Who holds the one Discord gateway session among several processes (see leadership.ts). */
  discordGateway?: Leadership;
  /** The Redis the instances share, where Slack's screen remembers requests for all of them. */
  redis?: RedisOptions;
  /** The key prefix the instances share on that Redis (default `concord`). */
  prefix?: string;
  /** What the adapters call (default the core's own). */
  inbound?: ChatInbound;
}): Promise<Platforms> {
  const { config, core, http, logger } = options;
  const inbound = options.inbound ?? core.inbound;
  const prefix = options.prefix ?? 'concord';
  const closers: (() => Promise<void>)[] = [];
  const running: string[] = [];
  const adapters: Platforms['adapters'] = {};
  try {
    if (slackEnabled(config)) {
      // Each SDK is loaded only when its platform is configured.
      const { startSlack } = await import('./slack/index.js');
      const slack = await startSlack({
        botToken: config.SLACK_BOT_TOKEN as string,
        signingSecret: config.SLACK_SIGNING_SECRET as string,
        ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
        http,
        inbound,
        logger: logger.child({ platform: 'slack' }),
        ...(options.redis ? { sharedMemory: { redis: options.redis, prefix } } : {}),
      });
      core.chat.register(slack.chat);
      adapters.slack = slack;
      closers.push(() => slack.close());
      running.push('slack');
    }
    if (discordEnabled(config)) {
      const { startDiscord } = await import('./discord/index.js');
      const discord = await startDiscord({
        botToken: config.DISCORD_BOT_TOKEN as string,
        applicationId: config.DISCORD_APPLICATION_ID as string,
        guildId: config.DISCORD_GUILD_ID as string,
        ...(config.DISCORD_API_URL ? { apiUrl: config.DISCORD_API_URL } : {}),
        ...(config.DISCORD_PUBLIC_KEY ? { publicKey: config.DISCORD_PUBLIC_KEY } : {}),
        http,
        inbound,
        registry: core.registry,
        logger: logger.child({ platform: 'discord' }),
        ...(options.discordGateway ? { gatewayLeadership: options.discordGateway } : {}),
      });
      core.chat.register(discord.chat);
      adapters.discord = discord;
      closers.push(() => discord.close());
      running.push('discord');
    }
  } catch (err) {
    await Promise.allSettled(closers.map((close) => close()));
    throw err;
  }
  return {
    running,
    adapters,
    close: async () => {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}

/**
 * Where reminders and escalations reach people: on the chat platforms this process runs (Slack
 * first, for someone on both), or in the terminal when it runs none.
 */
export function directMessagesOn(config: Config): {
  directPlatform: ChatPlatform;
  running: ChatPlatform[];
} {
  const running: ChatPlatform[] = [
    ...(slackEnabled(config) ? (['slack'] as const) : []),
    ...(discordEnabled(config) ? (['discord'] as const) : []),
  ];
  return { directPlatform: running[0] ?? 'shell', running: running.length ? running : ['shell'] };
}
