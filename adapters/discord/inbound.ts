import { type Client, GatewayDispatchEvents, Routes } from 'discord.js';
import type { ChatInbound, InboundMessage } from '../../src/chat/port.js';
import type { Logger } from '../../src/log.js';
import { CHANNEL_TYPE, type ChannelDirectory, isThread } from './channels.js';
import { ALREADY_ACKNOWLEDGED, discordCode } from './errors.js';
import type { InteractionRunner } from './interactions.js';
import { discordChannel, discordMessage, discordUser } from './refs.js';
import type { RestClient } from './rest.js';

/**
 * Gateway events to the core. discord.js hands every dispatch to `client.ws` listeners as raw
 * JSON; the adapter reads those rather than discord.js's cached objects, so an edit to a message
 * that is not in the cache still arrives, and interactions go through the same code as the
 * signed HTTP endpoint.
 */

// Plain messages and replies; joins, pins, thread notices and other system messages are not relayed.
const RELAYED_TYPES = new Set([0, 19]);

interface RawMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  type?: number;
  content?: string;
  author?: { id: string; bot?: boolean; username?: string; global_name?: string | null };
  member?: { nick?: string | null };
  webhook_id?: string;
  edited_timestamp?: string | null;
  attachments?: { url: string }[];
  message_reference?: { message_id?: string };
}

/** What the gateway listeners need: the client to listen on and where to hand events. */
export interface GatewayInboundOptions {
  client: Client;
  rest: RestClient;
  inbound: ChatInbound;
  runner: InteractionRunner;
  channels: ChannelDirectory;
  guildId: string;
  logger: Logger;
}

/** Subscribes to INTERACTION_CREATE, MESSAGE_CREATE and MESSAGE_UPDATE. */
export function listenToGateway(options: GatewayInboundOptions): void {
  const { client, logger } = options;
  client.ws.on(GatewayDispatchEvents.InteractionCreate, (raw: unknown) => {
    void acknowledgeThenRun(options, raw).catch((err: unknown) =>
      logger.error({ err }, 'discord interaction failed'),
    );
  });
  const onMessage = (raw: unknown, edited: boolean) => {
    const botId = client.user?.id;
    void toInbound(options, raw as RawMessage, edited, botId)
      .then((message) => (message ? options.inbound.message(message) : undefined))
      .catch((err: unknown) => logger.error({ err }, 'discord message failed'));
  };
  client.ws.on(GatewayDispatchEvents.MessageCreate, (raw: unknown) => onMessage(raw, false));
  client.ws.on(GatewayDispatchEvents.MessageUpdate, (raw: unknown) => onMessage(raw, true));
}

/** Defers before anything else: the 3-second deadline leaves no room for database work first. */
async function acknowledgeThenRun(options: GatewayInboundOptions, raw: unknown): Promise<void> {
  const accepted = options.runner.accept(raw);
  if (!accepted || accepted === 'duplicate') return;
  try {
    await options.rest.post(Routes.interactionCallback(accepted.id, accepted.token), {
      body: accepted.ack,
      auth: false,
    });
  } catch (err) {
    // Acknowledged elsewhere (another process, or the HTTP endpoint): run anyway, the core's
    // delivery key makes a second run a no-op. Anything else (10062: too late) means the person
    // already saw "did not respond" and may retry; running now would surprise them.
    if (discordCode(err) !== ALREADY_ACKNOWLEDGED) {
      options.logger.warn({ err, interaction: accepted.id }, 'discord: could not acknowledge');
      return;
    }
  }
  await accepted.run();
}

/**
 * A message as the core sees it, or undefined when it is not to be relayed: the bot's own, other
 * bots' and webhooks' (so relayed copies never echo), system messages, other guilds, empty text
 * (attachments aside), and updates that are not edits (link previews set no `edited_timestamp`).
 * In thread T of channel P: `channel` is P and `thread` is P/T, T being the id of the message the
 * thread was started from.
 */
export async function toInbound(
  options: Pick<GatewayInboundOptions, 'channels' | 'guildId'>,
  raw: RawMessage,
  edited: boolean,
  botId: string | undefined,
): Promise<InboundMessage | undefined> {
  const author = raw.author;
  if (!author || author.bot || author.id === botId || raw.webhook_id) return undefined;
  if (!RELAYED_TYPES.has(raw.type ?? 0)) return undefined;
  if (edited && !raw.edited_timestamp) return undefined;
  if (raw.guild_id && raw.guild_id !== options.guildId) return undefined;
  const text = [raw.content ?? '', ...(raw.attachments ?? []).map((a) => a.url)]
    .filter(Boolean)
    .join('\n');
  if (!text.trim()) return undefined;

  const info = await options.channels.lookup(raw.channel_id);
  const base = {
    deliveryKey: edited
      ? `discord:edit:${raw.id}:${raw.edited_timestamp}`
      : `discord:msg:${raw.id}`,
    user: discordUser(author.id),
    message: discordMessage(raw.channel_id, raw.id),
    text,
    ...(edited ? { edited: true } : {}),
  };
  const name = raw.member?.nick ?? author.global_name ?? author.username;
  const named = name ? { userName: name } : {};
  if (isThread(info) && info?.parentId) {
    return {
      ...base,
      ...named,
      channel: discordChannel(info.parentId),
      thread: discordMessage(info.parentId, raw.channel_id),
    };
  }
  // DMs have no threads; a reply to one of the bot's messages stands for one.
  const repliedTo = raw.message_reference?.message_id;
  if (!raw.guild_id && info?.type === CHANNEL_TYPE.dm && repliedTo) {
    return {
      ...base,
      ...named,
      channel: discordChannel(raw.channel_id),
      thread: discordMessage(raw.channel_id, repliedTo),
    };
  }
  return { ...base, ...named, channel: discordChannel(raw.channel_id) };
}
