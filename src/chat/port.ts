import type { ChatMessage } from './message.js';
import type { ChannelRef, ChatPlatform, MessageRef, UserRef } from './refs.js';

/** What a new channel should be. Adapters fit `name` to their own length and charset rules. */
export interface ChannelSpec {
  /** @example 'inc-2026-14-ransomware-at-port' */
  name: string;
  /** A private channel admits invited members only (TLP:RED incidents). */
  private: boolean;
  topic?: string;
}

/**
 * One platform limit a send counts against: at most `burst` sends at once under `key`, then one
 * every `intervalMs`. Keys start with the platform's name, and sends that share a key share the
 * limit, in every process on the same Redis.
 * @example { key: 'slack:channel:C0123', intervalMs: 1000, burst: 2 } // 2 at once, then 1/s
 */
export interface PaceRate {
  /** @example 'slack:workspace', 'discord:global' */
  key: string;
  /** The steady pace: one send per this many ms. */
  intervalMs: number;
  /** How many sends may go at once after a quiet spell (1: none ahead of the pace). */
  burst: number;
}

/**
 * Everything the core asks of a chat platform. One adapter per platform implements it; the core
 * picks the adapter by the platform prefix of the reference it holds.
 */
export interface ChatPort {
  /**
   * The platform this adapter serves; every reference it hands out starts with `<platform>:`.
   * @example 'slack'
   */
  readonly platform: ChatPlatform;

  /** Creates a channel and returns its reference. @example createChannel({ name: 'inc-2026-1-x', private: false }) */
  createChannel(spec: ChannelSpec): Promise<ChannelRef>;

  /**
   * Adds people to a channel; people already in it are not an error.
   * @example invite('slack:C0123', ['slack:U0456', 'slack:U0789'])
   */
  invite(channel: ChannelRef, users: readonly UserRef[]): Promise<void>;

  /**
   * Archives a channel: Slack archives it; Discord makes it read-only for everyone but the bot.
   * @example archive('discord:1234')
   */
  archive(channel: ChannelRef): Promise<void>;

  /**
   * Posts a message, in a thread when `thread` is given, and returns its reference. `key`, when
   * given, is the delivery's idempotency key (unique per message and recipient): the adapter
   * passes it to a platform that drops repeats (Discord's nonce) and tags the message with it
   * where `findPosted` can see it (a Slack block id).
   * @example post('slack:C0123', { tlp: 'amber', title: 'Status' }, { thread: 'slack:C0123/1700000000.000100', key: 'EW-2026-4/slack:C0123' })
   */
  post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef>;

  /**
   * The message with idempotency key `key` (see `post`) that the bot posted to `target` (in the
   * thread `thread`, when given) since `since`, or null. The delivery queue asks before posting
   * again a message an earlier attempt may have posted (a crash between the post and marking it
   * sent). Optional: a platform that drops repeated keys by itself (Discord) needs none, and
   * without it the message is simply posted.
   * @example await findPosted('slack:U0456', 'EW-2026-4/slack:U0456', { since: createdAt }) // 'slack:D0789/1700000000.000100' or null
   */
  findPosted?(
    target: ChannelRef | UserRef,
    key: string,
    options: { thread?: MessageRef; since: Date },
  ): Promise<MessageRef | null>;

  /**
   * The channel holding a message this adapter handed out, a direct-message channel included.
   * Pure decoding of the reference: no call to the platform.
   * @example channelOf('slack:C0123/1700000000.000100') // 'slack:C0123'
   */
  channelOf(message: MessageRef): ChannelRef;

  /**
   * The limits a post (`post`, `sendDirect`) or an edit (`update`) to `target` counts against,
   * for the delivery queue to pace sends under before it makes them. Optional: without it sends
   * are not paced. Keys start with the platform name.
   * @example rates('slack:C0123', 'post') // [{ key: 'slack:channel:C0123', intervalMs: 1000, burst: 2 }, …]
   */
  rates?(target: ChannelRef | UserRef, kind: 'post' | 'update'): PaceRate[];

  /**
   * Whether only invited members can read the channel (a private channel or a direct message),
   * e.g. before `/org inbox` accepts it for TLP:AMBER and above. Optional: the core treats a
   * platform without it as unable to tell.
   * @example await isPrivate('discord:1234') // true when @everyone cannot view it
   */
  isPrivate?(channel: ChannelRef): Promise<boolean>;

  /**
   * Replaces a message the bot posted earlier, e.g. a card whose buttons were used.
   * @example update('slack:C0123/1700000000.000100', { tlp: 'amber', title: 'Closed' })
   */
  update(message: MessageRef, content: ChatMessage): Promise<void>;

  /**
   * Shows a message to one person in a channel, visible to nobody else.
   * @example postEphemeral('slack:C0123', 'slack:U0456', { body: 'Only you see this' })
   */
  postEphemeral(channel: ChannelRef, user: UserRef, message: ChatMessage): Promise<void>;

  /**
   * Sends a direct message and returns its reference (its thread can carry replies). `key` as
   * for `post`.
   * @example sendDirect('discord:5678', { tlp: 'red', title: 'Your code' }, { key: 'FS-3/discord:5678' }) // 'discord:91/92'
   */
  sendDirect(user: UserRef, message: ChatMessage, options?: { key?: string }): Promise<MessageRef>;

  /**
   * Pins a message in its channel. Optional: platforms without pins leave it out.
   * @example pin('slack:C0123/1700000000.000100')
   */
  pin?(message: MessageRef): Promise<void>;

  /**
   * A link a person can follow to the channel, when the platform has one.
   * @example channelLink('discord:1234') // 'https://discord.com/channels/<guild>/1234'
   */
  channelLink?(channel: ChannelRef): string;

  /**
   * Finds a channel the bot created earlier by its exact name, so an incident whose opening was
   * cut short by a crash adopts its channel instead of making a second one.
   * @example findChannel('inc-2026-14-ransomware') // 'slack:C0456' or null
   */
  findChannel?(name: string): Promise<ChannelRef | null>;
}

/**
 * A message someone (not the bot) posted or edited in a channel the bot is in. Adapters drop the
 * bot's own messages, so a relayed copy never comes back as a new message.
 */
export interface InboundMessage {
  /** Unique per delivery (Slack `event_id`, Discord message id plus edit time). */
  deliveryKey: string;
  user: UserRef;
  channel: ChannelRef;
  message: MessageRef;
  /** The thread's first message when this is a reply in a thread. */
  thread?: MessageRef;
  text: string;
  /** True when an existing message was edited; `message` is the edited one. */
  edited?: boolean;
  /** Display name the platform gave, for people not yet in the directory. */
  userName?: string;
}

/**
 * What adapters call when something arrives. Each call is idempotent on its `deliveryKey`: a
 * redelivery resolves to `null` and changes nothing. Adapters acknowledge the platform first and
 * call these afterwards.
 */
export interface ChatInbound {
  /** Runs a slash command; the reply goes back to the caller (`null`: a redelivery, say nothing). */
  command(command: InboundCommand): Promise<CommandReply | null>;
  /** A button press; the reply, if any, goes to the person who pressed it. */
  action(action: InboundAction): Promise<CommandReply | null>;
  /** A message or edit in a channel or thread: relayed to twin channels and request threads. */
  message(message: InboundMessage): Promise<void>;
}

/** A slash command as an adapter received it, normalised. */
export interface InboundCommand {
  /** Unique per delivery (Slack `trigger_id`, Discord interaction id): a retry carries the same key. */
  deliveryKey: string;
  user: UserRef;
  channel: ChannelRef;
  /** The whole command line, `/poc who forensics org:ACME`. */
  text: string;
  /** Display name the platform gave, for people not yet in the directory. */
  userName?: string;
}

/** A message posted in a thread the core is watching (request cards, incident channels). */
export interface InboundThreadReply {
  deliveryKey: string;
  user: UserRef;
  channel: ChannelRef;
  thread: MessageRef;
  message: MessageRef;
  text: string;
}

/** A button press on a message the core posted. */
export interface InboundAction {
  deliveryKey: string;
  user: UserRef;
  channel: ChannelRef;
  message: MessageRef;
  action: string;
  value: string;
}

/** How the core answers the person who issued a command. */
export interface CommandReply {
  message: ChatMessage;
  /** `private`: only the caller sees it (ephemeral); `channel`: everyone in the channel. */
  visibility: 'private' | 'channel';
}
