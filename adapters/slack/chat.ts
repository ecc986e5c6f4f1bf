import type { WebClient } from '@slack/web-api';
import { ChatFailure, isChatFailure } from '../../src/chat/errors.js';
import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort, PaceRate } from '../../src/chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../../src/chat/refs.js';
import type { Logger } from '../../src/log.js';
import { callSlack, DEFAULT_RETRY_POLICY, type SlackRetryPolicy } from './calls.js';
import { fitChannelName, parseSlackMessage, slackChannel, slackId, slackMessage } from './refs.js';
import { keyBlockId, renderForSlack } from './render.js';

// conversations.invite takes at most 1000 users per call.
const INVITE_BATCH = 1000;

/**
 * Slack's posting limits, as the delivery queue paces under them. chat.postMessage: "about one
 * message per second per channel", short bursts allowed, and about 300 a minute per workspace;
 * the fake enforces these as token buckets of 3 per channel (refilled at 1/s) and 300 per
 * workspace (refilled at 5/s). The pacer's GCRA has the same steady rates (1000 ms, 200 ms) but
 * a burst one short of each bucket: a bucket starts counting when the first post *arrives*, and
 * a later post that travels a few ms faster than that first one would find its token not quite
 * refilled (measured: two 429s in ten posts to one channel with burst 3). The spare token
 * absorbs up to one interval of jitter at no cost to the steady rate. A direct message counts
 * against its conversation (see `rates`). chat.update is Tier 3 (about 50 a minute): one every
 * 1.2 s, 20 at once.
 */
const CHANNEL_RATE = { intervalMs: 1000, burst: 2 };
const WORKSPACE_RATE: PaceRate = { key: 'slack:workspace', intervalMs: 200, burst: 299 };
const UPDATE_RATE: PaceRate = { key: 'slack:update', intervalMs: 1200, burst: 20 };

const isSlackError = (error: unknown, code: string) =>
  isChatFailure(error) && error.detail === code;

/** Users are `U…` (or `W…` on Enterprise Grid); conversations `C…`, `G…`, `D…`. */
const isUserId = (id: string) => id.startsWith('U') || id.startsWith('W');

/** `since` as a Slack timestamp, for `oldest`. */
const slackTs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(6);

/**
 * How far before `since` findPosted looks: Slack's clock (the message ts) and the database's
 * (a delivery's `created_at`) may disagree by a little.
 */
const CLOCK_SLACK_MS = 60_000;
const HISTORY_PAGE = 200;

/**
 * The chat port over Slack's Web API. Every call goes through `callSlack`, so a 429 delays only
 * that call and transient failures surface as `ChatFailure('unavailable')` once retries run out.
 */
export class SlackChat implements ChatPort {
  readonly platform = 'slack' as const;
  // Direct-message conversations never change for a user: one conversations.open each.
  private readonly ims = new Map<string, string>();

  constructor(
    private readonly client: WebClient,
    /** The bot's own user id (from auth.test): never invited, never relayed. */
    readonly botUserId: string,
    private readonly logger: Logger,
    private readonly retry: SlackRetryPolicy = DEFAULT_RETRY_POLICY,
  ) {}

  private call<T>(what: string, fn: () => Promise<T>, repeatable = true): Promise<T> {
    return callSlack(what, fn, this.retry, this.logger, { repeatable });
  }

  async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    const name = fitChannelName(spec.name);
    const result = await this.call(`conversations.create ${name}`, () =>
      this.client.conversations.create({ name, is_private: spec.private }),
    );
    const id = result.channel?.id;
    if (!id) throw new ChatFailure('rejected', 'conversations.create answered without a channel');
    if (spec.topic) {
      const topic = spec.topic;
      // The channel is usable without its topic, so setting it does not hold up the invitations
      // and the card that follow; a failure is only logged.
      void this.call(`conversations.setTopic ${id}`, () =>
        this.client.conversations.setTopic({ channel: id, topic }),
      ).catch((error: unknown) => this.logger.warn({ err: error, channel: id }, 'topic not set'));
    }
    return slackChannel(id);
  }

  async invite(channel: ChannelRef, users: readonly UserRef[]): Promise<void> {
    const channelId = slackId(channel);
    const ids = [...new Set(users.map(slackId))].filter((id) => id !== this.botUserId);
    for (let i = 0; i < ids.length; i += INVITE_BATCH) {
      const batch = ids.slice(i, i + INVITE_BATCH);
      try {
        await this.inviteBatch(channelId, batch);
      } catch (error) {
        // Slack fails the whole call when any one user is already in: add the rest one by one.
        if (!isSlackError(error, 'already_in_channel')) throw error;
        for (const id of batch) {
          await this.inviteBatch(channelId, [id]).catch((e: unknown) => {
            if (!isSlackError(e, 'already_in_channel')) throw e;
          });
        }
      }
    }
  }

  private async inviteBatch(channel: string, users: string[]): Promise<void> {
    await this.call(`conversations.invite ${channel}`, () =>
      this.client.conversations.invite({ channel, users: users.join(',') }),
    );
  }

  async archive(channel: ChannelRef): Promise<void> {
    const id = slackId(channel);
    await this.call(`conversations.archive ${id}`, () =>
      this.client.conversations.archive({ channel: id }),
    ).catch((error: unknown) => {
      if (!isSlackError(error, 'already_archived')) throw error;
    });
  }

  /** With `key`, the message is tagged for `findPosted` (`keyBlockId`). */
  async post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    const id = slackId(channel);
    const threadTs = options?.thread ? parseSlackMessage(options.thread).ts : undefined;
    return this.postTo(id, message, threadTs, options?.key);
  }

  private async postTo(channel: string, message: ChatMessage, threadTs?: string, key?: string) {
    const { text, blocks } = renderForSlack(message, key ? { key } : {});
    const result = await this.call(
      `chat.postMessage ${channel}`,
      () =>
        this.client.chat.postMessage({
          channel,
          text,
          blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        }),
      false,
    );
    if (!result.ts) throw new ChatFailure('rejected', 'chat.postMessage answered without a ts');
    return slackMessage(result.channel ?? channel, result.ts);
  }

  channelOf(message: MessageRef): ChannelRef {
    return slackChannel(parseSlackMessage(message).channel);
  }

  /**
   * A direct message is one conversation, whether it is addressed by the user (`sendDirect`) or
   * by its `D…` id (a reply in the thread of a card sent by direct message), so both must count
   * against one key: the `D…` id, Slack's own id for it and the one its limit is kept under. A
   * user is mapped to it through the cache `sendDirect` fills; until this process has opened
   * that conversation once, the user id stands in, so the very first direct message to someone
   * and a reply in an older thread with them, sent in the same second, may share the channel's
   * burst only loosely (at worst a 429 and a retry). Mapping `D…` ids back to users instead would
   * leave the same gap the other way round (a `D…` id from an earlier run, before any
   * `sendDirect`), and would key the limit by something Slack does not.
   */
  rates(target: ChannelRef | UserRef, kind: 'post' | 'update'): PaceRate[] {
    if (kind === 'update') return [UPDATE_RATE];
    const id = slackId(target);
    const conversation = isUserId(id) ? (this.ims.get(id) ?? id) : id;
    return [{ key: `slack:channel:${conversation}`, ...CHANNEL_RATE }, WORKSPACE_RATE];
  }

  /** Direct messages (`D…`) are private without asking (and asking would need `im:read`). */
  async isPrivate(channel: ChannelRef): Promise<boolean> {
    const id = slackId(channel);
    if (id.startsWith('D')) return true;
    const result = await this.call(`conversations.info ${id}`, () =>
      this.client.conversations.info({ channel: id }),
    );
    const info = result.channel;
    return Boolean(info?.is_private || info?.is_im || info?.is_mpim);
  }

  async update(message: MessageRef, content: ChatMessage): Promise<void> {
    const { channel, ts } = parseSlackMessage(message);
    const { text, blocks } = renderForSlack(content);
    await this.call(`chat.update ${channel}`, () =>
      this.client.chat.update({ channel, ts, text, blocks }),
    );
  }

  async postEphemeral(channel: ChannelRef, user: UserRef, message: ChatMessage): Promise<void> {
    const { text, blocks } = renderForSlack(message);
    const id = slackId(channel);
    await this.call(`chat.postEphemeral ${id}`, () =>
      this.client.chat.postEphemeral({ channel: id, user: slackId(user), text, blocks }),
    );
  }

  async sendDirect(
    user: UserRef,
    message: ChatMessage,
    options?: { key?: string },
  ): Promise<MessageRef> {
    return this.postTo(await this.imOf(slackId(user)), message, undefined, options?.key);
  }

  /** The direct-message conversation with a user, opened once per process. */
  private async imOf(userId: string): Promise<string> {
    const known = this.ims.get(userId);
    if (known) return known;
    const opened = await this.call(`conversations.open ${userId}`, () =>
      this.client.conversations.open({ users: userId }),
    );
    const im = opened.channel?.id;
    if (!im) throw new ChatFailure('rejected', 'conversations.open answered without a channel');
    this.ims.set(userId, im);
    return im;
  }

  /**
   * Reads the conversation (or the thread) back from a little before `since`, newest first, for
   * a message of this bot whose first block carries the key's tag. Needs the history scopes
   * (channels:history, groups:history, im:history). conversations.history does not list thread
   * replies, so a post in a thread is looked for with conversations.replies.
   */
  async findPosted(
    target: ChannelRef | UserRef,
    key: string,
    options: { thread?: MessageRef; since: Date },
  ): Promise<MessageRef | null> {
    const id = slackId(target);
    const channel = isUserId(id) ? await this.imOf(id) : id;
    const tag = keyBlockId(key);
    const window = {
      channel,
      oldest: slackTs(options.since.getTime() - CLOCK_SLACK_MS),
      inclusive: true,
      limit: HISTORY_PAGE,
    };
    const threadTs = options.thread ? parseSlackMessage(options.thread).ts : undefined;
    let cursor: string | undefined;
    do {
      const page = await this.call(
        `conversations.${threadTs ? 'replies' : 'history'} ${channel}`,
        () =>
          threadTs
            ? this.client.conversations.replies({
                ...window,
                ts: threadTs,
                ...(cursor ? { cursor } : {}),
              })
            : this.client.conversations.history({ ...window, ...(cursor ? { cursor } : {}) }),
      );
      const found = page.messages?.find(
        (m) => m.user === this.botUserId && m.blocks?.[0]?.block_id === tag,
      );
      if (found?.ts) return slackMessage(channel, found.ts);
      cursor = (page.has_more && page.response_metadata?.next_cursor) || undefined;
    } while (cursor);
    return null;
  }

  async pin(message: MessageRef): Promise<void> {
    const { channel, ts } = parseSlackMessage(message);
    await this.call(`pins.add ${channel}`, () =>
      this.client.pins.add({ channel, timestamp: ts }),
    ).catch((error: unknown) => {
      if (!isSlackError(error, 'already_pinned')) throw error;
    });
  }

  channelLink(channel: ChannelRef): string {
    return `https://slack.com/app_redirect?channel=${encodeURIComponent(slackId(channel))}`;
  }

  async findChannel(name: string): Promise<ChannelRef | null> {
    const wanted = fitChannelName(name);
    let cursor: string | undefined;
    do {
      const page = await this.call('conversations.list', () =>
        this.client.conversations.list({
          types: 'public_channel,private_channel',
          exclude_archived: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const found = page.channels?.find((c) => c.name === wanted);
      if (found?.id) return slackChannel(found.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return null;
  }
}
