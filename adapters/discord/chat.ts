import { createHash } from 'node:crypto';
import { Routes } from 'discord.js';
import { ChatFailure } from '../../src/chat/errors.js';
import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort, PaceRate } from '../../src/chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../../src/chat/refs.js';
import {
  BOT_ALLOW,
  CHANNEL_TYPE,
  type ChannelDirectory,
  fitChannelName,
  isThread,
  lockedOverwrites,
  MEMBER_ALLOW,
  overwrite,
  PERMISSIONS,
  type RawOverwrite,
} from './channels.js';
import {
  discordCode,
  handingBackRateLimits,
  THREAD_ALREADY_EXISTS,
  toChatFailure,
} from './errors.js';
import { channelIdOf, discordChannel, discordMessage, messageIdsOf, userIdOf } from './refs.js';
import { clipText, type DiscordMessageBody, renderMessage } from './render.js';
import type { RestClient } from './rest.js';

const NEEDS = {
  channels: 'the Manage Channels and Manage Roles permissions',
  overwrites: 'the Manage Roles permission on the channel',
  view: 'the View Channel permission',
  post: 'the View Channel, Send Messages and Embed Links permissions',
  threads: 'the Create Public Threads and Send Messages in Threads permissions',
  pin: 'the Pin Messages permission',
  direct: 'a server in common with the person, who must accept direct messages',
} as const;
const TOPIC = 1024;

/**
 * The one limit the delivery queue paces Discord sends under: 50 requests a second per bot,
 * globally. Discord (and the fake) count them in fixed one-second windows, so an even pace of one
 * every 21 ms (about 48 a second) leaves room for network jitter bunching a few into one window.
 * Per-channel buckets (5 messages per 5 s) need no pacing here: discord.js tracks each route by
 * the X-RateLimit headers, and a delivery's post that meets an empty bucket (or a 429) comes back
 * as `rate_limited`, for the outbox to send again once it refills; a busy channel waits alone.
 */
const GLOBAL_RATE: PaceRate = { key: 'discord:global', intervalMs: 21, burst: 1 };
/** Channel types only invited members can read: DMs, group DMs, private threads. */
const PRIVATE_TYPES = new Set([1, 3, 12]);
const PUBLIC_THREAD_TYPES = new Set([10, 11]);
const ARCHIVED = '[Archived: read-only]';

/**
 * A delivery's idempotency key as a message nonce (at most 25 characters, so a hash). With
 * `enforce_nonce`, Discord answers a create whose nonce this bot used in the same channel in the
 * last few minutes with the message it made then, and makes no second one: a post repeated
 * after a crash, or by a retry of a request that timed out but landed, appears once. Hence no
 * `findPosted` here: Discord does not return nonces when reading messages back, and the nonce
 * already covers the minutes a restarted process takes to repeat a post.
 */
const nonceFor = (key: string) => ({
  nonce: createHash('sha256').update(key).digest('base64url').slice(0, 25),
  enforce_nonce: true,
});

interface RawChannel {
  id: string;
  type: number;
  parent_id?: string | null;
  name?: string;
  topic?: string | null;
  permission_overwrites?: RawOverwrite[];
}

/** What DiscordChat is built from; `startDiscord` wires it. */
export interface DiscordChatOptions {
  rest: RestClient;
  guildId: string;
  botUserId: string;
  channels: ChannelDirectory;
}

/**
 * The chat port over Discord's REST API (discord.js's REST client: per-route queues, 429
 * handling, retries). Discord has no archive and no ephemeral messages outside interactions; see
 * `archive` and `postEphemeral` for what stands in for them.
 */
export class DiscordChat implements ChatPort {
  readonly platform = 'discord' as const;
  private readonly rest: RestClient;
  private readonly guildId: string;
  private readonly botUserId: string;
  private readonly channels: ChannelDirectory;
  /** User id → DM channel id. */
  private readonly dms = new Map<string, string>();

  constructor(options: DiscordChatOptions) {
    this.rest = options.rest;
    this.guildId = options.guildId;
    this.botUserId = options.botUserId;
    this.channels = options.channels;
  }

  private async call<T>(needed: string, request: () => Promise<unknown>): Promise<T> {
    try {
      return (await request()) as T;
    } catch (error) {
      throw toChatFailure(error, needed);
    }
  }

  private guildChannels(): Promise<RawChannel[]> {
    return this.call(NEEDS.channels, () => this.rest.get(Routes.guildChannels(this.guildId)));
  }

  /**
   * Discord allows two channels of one name; the core expects a taken name to be refused so it
   * can pick another, so the guild's text channels are checked first. The check and the creation
   * are two requests: two creations of one name racing each other can both pass.
   */
  async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    const name = fitChannelName(spec.name);
    const existing = await this.guildChannels();
    if (existing.some((c) => c.type === CHANNEL_TYPE.text && c.name === name))
      throw new ChatFailure('name_taken', name);
    const body = {
      name,
      type: CHANNEL_TYPE.text,
      ...(spec.topic ? { topic: clipText(spec.topic, TOPIC) } : {}),
      // Private: hidden from @everyone (the role whose id is the guild's), visible to the bot.
      ...(spec.private
        ? {
            permission_overwrites: [
              overwrite(this.guildId, 0, 0n, PERMISSIONS.viewChannel),
              overwrite(this.botUserId, 1, BOT_ALLOW, 0n),
            ],
          }
        : {}),
    };
    const created = await this.call<RawChannel>(NEEDS.channels, () =>
      this.rest.post(Routes.guildChannels(this.guildId), { body }),
    );
    this.channels.remember(created.id, { type: created.type, parentId: null });
    return discordChannel(created.id);
  }

  /** A member overwrite per person: view, write and read history. Repeating it changes nothing. */
  async invite(channel: ChannelRef, users: readonly UserRef[]): Promise<void> {
    const channelId = channelIdOf(channel);
    for (const userId of new Set(users.map(userIdOf))) {
      const { id: _, ...body } = overwrite(userId, 1, MEMBER_ALLOW, 0n);
      await this.call(NEEDS.overwrites, () =>
        this.rest.put(Routes.channelPermission(channelId, userId), { body }),
      );
    }
  }

  /**
   * Discord has no archive: the channel is locked instead. @everyone and every member or role
   * with an overwrite lose Send Messages (and threads and reactions) but keep reading; the bot
   * keeps writing. The topic gets an `[Archived: read-only]` prefix; the name stays, because
   * people and `findChannel` know the channel by it and Discord allows only two renames per ten
   * minutes. One PATCH, so a channel is never left half locked.
   */
  async archive(channel: ChannelRef): Promise<void> {
    const channelId = channelIdOf(channel);
    const current = await this.call<RawChannel>(NEEDS.channels, () =>
      this.rest.get(Routes.channel(channelId)),
    );
    const topic = current.topic ?? '';
    const body = {
      permission_overwrites: lockedOverwrites(
        current.permission_overwrites ?? [],
        this.guildId,
        this.botUserId,
      ),
      ...(topic.startsWith(ARCHIVED)
        ? {}
        : { topic: clipText(topic ? `${ARCHIVED} ${topic}` : ARCHIVED, TOPIC) }),
    };
    await this.call(NEEDS.channels, () => this.rest.patch(Routes.channel(channelId), { body }));
  }

  private async send(channelId: string, body: object, needed: string = NEEDS.post) {
    const sent = await this.call<{ id: string; channel_id: string }>(needed, () =>
      this.rest.post(Routes.channelMessages(channelId), { body }),
    );
    return discordMessage(sent.channel_id ?? channelId, sent.id);
  }

  /**
   * A post with a `key` is a delivery's: a channel's rate limit on it surfaces at once as
   * `rate_limited` (`handingBackRateLimits`), for the outbox to queue it again for later.
   */
  async post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    const key = options?.key;
    const thread = options?.thread;
    const body = { ...renderMessage(message), ...(key ? nonceFor(key) : {}) };
    const post = () =>
      thread ? this.postInThread(thread, body) : this.send(channelIdOf(channel), body);
    return key ? handingBackRateLimits(post) : post();
  }

  /**
   * A thread started from message M is channel M. It is made on the first post (Discord answers
   * 160004 when it already exists, e.g. after a restart). Where Discord has no threads (DMs, or
   * M itself inside a thread) the post goes beside M instead, as a reply to it.
   */
  private async postInThread(thread: MessageRef, body: DiscordMessageBody): Promise<MessageRef> {
    const { channelId: parentId, messageId: rootId } = messageIdsOf(thread);
    // Only what is already known: asking Discord about a thread that does not exist yet is a 404.
    if (isThread(this.channels.known(rootId))) return this.send(rootId, body, NEEDS.threads);
    const parent = await this.channels.lookup(parentId);
    if (!parent) throw new ChatFailure('not_found', `channel ${parentId}`);
    if (parent.type === CHANNEL_TYPE.dm || isThread(parent)) {
      const reply = {
        ...body,
        message_reference: { message_id: rootId, fail_if_not_exists: false },
      };
      return this.send(parentId, reply);
    }
    const name = await this.threadName(parentId, rootId);
    try {
      await this.rest.post(Routes.threads(parentId, rootId), {
        body: { name, auto_archive_duration: 10080 },
      });
    } catch (error) {
      if (discordCode(error) !== THREAD_ALREADY_EXISTS) throw toChatFailure(error, NEEDS.threads);
    }
    this.channels.remember(rootId, { type: 11, parentId });
    return this.send(rootId, body, NEEDS.threads);
  }

  /** Names a new thread after the message it hangs off (its embed title or first line). */
  private async threadName(channelId: string, messageId: string): Promise<string> {
    try {
      const root = (await this.rest.get(Routes.channelMessage(channelId, messageId))) as {
        content?: string;
        embeds?: { title?: string }[];
      };
      const title = root.embeds?.[0]?.title ?? '';
      const firstLine = (root.content ?? '').replace(/\*\*/g, '').split('\n')[0] ?? '';
      return clipText(title || firstLine || 'Replies', 100);
    } catch {
      return 'Replies';
    }
  }

  channelOf(message: MessageRef): ChannelRef {
    return discordChannel(messageIdsOf(message).channelId);
  }

  rates(): PaceRate[] {
    return [GLOBAL_RATE];
  }

  /**
   * Private when @everyone (the role whose id is the guild's) is denied View Channel, as
   * `createChannel` makes a private channel; DMs and private threads are private by nature, and
   * a public thread is as private as its channel.
   */
  async isPrivate(channel: ChannelRef): Promise<boolean> {
    const channelId = channelIdOf(channel);
    const raw = await this.call<RawChannel>(NEEDS.view, () =>
      this.rest.get(Routes.channel(channelId)),
    );
    if (PRIVATE_TYPES.has(raw.type)) return true;
    if (PUBLIC_THREAD_TYPES.has(raw.type) && raw.parent_id)
      return this.isPrivate(discordChannel(raw.parent_id));
    const everyone = raw.permission_overwrites?.find((o) => o.id === this.guildId);
    return everyone !== undefined && (BigInt(everyone.deny) & PERMISSIONS.viewChannel) !== 0n;
  }

  async update(message: MessageRef, content: ChatMessage): Promise<void> {
    const { channelId, messageId } = messageIdsOf(message);
    const body = renderMessage(content);
    await this.call(NEEDS.post, () =>
      this.rest.patch(Routes.channelMessage(channelId, messageId), { body }),
    );
  }

  /**
   * Discord shows ephemeral messages only as answers to an interaction, so outside one the
   * message goes to the person as a direct message, with a line naming the channel it is about.
   */
  async postEphemeral(channel: ChannelRef, user: UserRef, message: ChatMessage): Promise<void> {
    const body = renderMessage(message);
    const note = `*Only you see this; it concerns <#${channelIdOf(channel)}>.*`;
    const content = clipText(body.content ? `${body.content}\n${note}` : note, 2000);
    await this.direct(user, { ...body, content });
  }

  /** With a `key`, a delivery's, handing back a rate limit as `post` does. */
  async sendDirect(
    user: UserRef,
    message: ChatMessage,
    options?: { key?: string },
  ): Promise<MessageRef> {
    const key = options?.key;
    if (!key) return this.direct(user, renderMessage(message));
    return handingBackRateLimits(() =>
      this.direct(user, { ...renderMessage(message), ...nonceFor(key) }),
    );
  }

  private async direct(user: UserRef, body: DiscordMessageBody): Promise<MessageRef> {
    const userId = userIdOf(user);
    let dmId = this.dms.get(userId);
    if (!dmId) {
      const dm = await this.call<RawChannel>(NEEDS.direct, () =>
        this.rest.post(Routes.userChannels(), { body: { recipient_id: userId } }),
      );
      dmId = dm.id;
      this.dms.set(userId, dmId);
      this.channels.remember(dmId, { type: CHANNEL_TYPE.dm, parentId: null });
    }
    return this.send(dmId, body, NEEDS.direct);
  }

  async pin(message: MessageRef): Promise<void> {
    const { channelId, messageId } = messageIdsOf(message);
    await this.call(NEEDS.pin, () =>
      this.rest.put(Routes.channelMessagesPin(channelId, messageId)),
    );
  }

  channelLink(channel: ChannelRef): string {
    return `https://discord.com/channels/${this.guildId}/${channelIdOf(channel)}`;
  }

  /** Compares against the fitted name, the name `createChannel` would have given it. */
  async findChannel(name: string): Promise<ChannelRef | null> {
    const wanted = fitChannelName(name);
    const found = (await this.guildChannels()).find(
      (c) => c.type === CHANNEL_TYPE.text && c.name === wanted,
    );
    return found ? discordChannel(found.id) : null;
  }
}
