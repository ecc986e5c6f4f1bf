import { snowflake } from './ids.js';

/**
 * The fake guild's world: users, channels (threads carry `parent_id`), permission overwrites,
 * messages, pins and the registered application commands. Plain data, readable from tests.
 */

/** Channel types the fake knows (Discord's numbers). */
export const CHANNEL = {
  text: 0,
  dm: 1,
  category: 4,
  publicThread: 11,
  privateThread: 12,
} as const;

/** Announcement (10), public (11) and private (12) threads. */
export const isThreadType = (type: number) => type === 10 || type === 11 || type === 12;

/** The permission bits tests read back by name. */
export const PERMISSION_BITS = {
  ADD_REACTIONS: 1n << 6n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  MANAGE_ROLES: 1n << 28n,
  CREATE_PUBLIC_THREADS: 1n << 35n,
  CREATE_PRIVATE_THREADS: 1n << 36n,
  SEND_MESSAGES_IN_THREADS: 1n << 38n,
} as const;

/** A user object as Discord sends it. */
export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot: boolean;
}

/** A permission overwrite, bitfields as decimal strings (as Discord stores them). */
export interface FakeOverwrite {
  id: string;
  /** 0 role, 1 member. */
  type: 0 | 1;
  allow: string;
  deny: string;
}

/** A guild channel, thread or DM. */
export interface FakeChannel {
  id: string;
  type: number;
  guild_id?: string;
  name?: string;
  topic?: string | null;
  parent_id?: string | null;
  position: number;
  permission_overwrites: FakeOverwrite[];
  last_message_id: string | null;
  /** DMs: the other person. */
  recipients?: FakeUser[];
  /** Threads: who started it and its archive state. */
  owner_id?: string;
  thread_metadata?: {
    archived: boolean;
    auto_archive_duration: number;
    archive_timestamp: string;
    locked: boolean;
  };
}

/** A message, by the bot or a person. */
export interface FakeMessage {
  id: string;
  channel_id: string;
  author: FakeUser;
  content: string;
  embeds: unknown[];
  components: unknown[];
  flags: number;
  type: number;
  timestamp: string;
  edited_timestamp: string | null;
  pinned: boolean;
  webhook_id?: string;
  message_reference?: { message_id: string; channel_id?: string };
  /** What the sender passed to tell its own message by (echoed back, as Discord does). */
  nonce?: string | number;
}

/** A registered guild application command. */
export interface FakeCommand {
  id: string;
  application_id: string;
  guild_id: string;
  version: string;
  type: number;
  name: string;
  description: string;
  options: FakeCommandOption[];
  default_member_permissions: string | null;
}

/** An option (or subcommand) of a registered command. */
export interface FakeCommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string }[];
  options?: FakeCommandOption[];
}

/** The whole fake world. */
export interface FakeGuildState {
  guild: { id: string; name: string; ownerId: string };
  bot: FakeUser;
  users: Map<string, FakeUser>;
  /** User ids that are members of the guild. */
  members: Set<string>;
  channels: Map<string, FakeChannel>;
  messages: Map<string, FakeMessage>;
  /** Channel id → pinned message ids, oldest first. */
  pins: Map<string, string[]>;
  commands: FakeCommand[];
  /** `channel/author/nonce` → the message created with that nonce, and when (for `enforce_nonce`). */
  nonces: Map<string, { messageId: string; at: number }>;
}

/** A user; bots have no global name. */
export function makeUser(username: string, bot = false, id = snowflake()): FakeUser {
  return {
    id,
    username,
    global_name: bot ? null : username,
    discriminator: '0',
    avatar: null,
    bot,
  };
}

/** A guild with #general, the bot and two people (alice, bob). */
export function createGuildState(botId: string): FakeGuildState {
  const bot = makeUser('concord', true, botId);
  const alice = makeUser('alice');
  const bob = makeUser('bob');
  const guildId = snowflake();
  const state: FakeGuildState = {
    guild: { id: guildId, name: 'Concord Test Guild', ownerId: alice.id },
    bot,
    users: new Map([bot, alice, bob].map((u) => [u.id, u])),
    members: new Set([bot.id, alice.id, bob.id]),
    channels: new Map(),
    messages: new Map(),
    pins: new Map(),
    commands: [],
    nonces: new Map(),
  };
  addTextChannel(state, 'general');
  return state;
}

/** A text channel in the guild (not announced; see `FakeDiscord.addChannel`). */
export function addTextChannel(
  state: FakeGuildState,
  name: string,
  extra: Partial<FakeChannel> = {},
): FakeChannel {
  const channel: FakeChannel = {
    id: snowflake(),
    type: CHANNEL.text,
    guild_id: state.guild.id,
    name,
    topic: null,
    parent_id: null,
    position: state.channels.size,
    permission_overwrites: [],
    last_message_id: null,
    ...extra,
  };
  state.channels.set(channel.id, channel);
  return channel;
}

/** Threads started from a message take that message's id, as on Discord. */
export function addThread(
  state: FakeGuildState,
  parent: FakeChannel,
  messageId: string,
  name: string,
  ownerId: string,
): FakeChannel {
  const thread: FakeChannel = {
    id: messageId,
    type: CHANNEL.publicThread,
    guild_id: state.guild.id,
    name,
    parent_id: parent.id,
    position: 0,
    permission_overwrites: [],
    last_message_id: null,
    owner_id: ownerId,
    thread_metadata: {
      archived: false,
      auto_archive_duration: 10080,
      archive_timestamp: new Date().toISOString(),
      locked: false,
    },
  };
  state.channels.set(thread.id, thread);
  return thread;
}

/** Stores a message (not announced: callers dispatch it). */
export function addMessage(
  state: FakeGuildState,
  channel: FakeChannel,
  author: FakeUser,
  fields: Partial<FakeMessage>,
): FakeMessage {
  const message: FakeMessage = {
    id: snowflake(),
    channel_id: channel.id,
    author,
    content: '',
    embeds: [],
    components: [],
    flags: 0,
    type: 0,
    timestamp: new Date().toISOString(),
    edited_timestamp: null,
    pinned: false,
    ...fields,
  };
  state.messages.set(message.id, message);
  channel.last_message_id = message.id;
  return message;
}

/** How long Discord remembers a nonce for `enforce_nonce` ("the past few minutes"). */
export const NONCE_WINDOW_MS = 5 * 60_000;

/**
 * The message `author` created in `channel` with `nonce` within `NONCE_WINDOW_MS`, if any;
 * `remember` records a new one. Older entries are dropped as they are met.
 */
export function messageByNonce(
  state: FakeGuildState,
  channelId: string,
  authorId: string,
  nonce: string | number,
  nowMs = Date.now(),
): FakeMessage | undefined {
  const key = `${channelId}/${authorId}/${nonce}`;
  const seen = state.nonces.get(key);
  if (!seen) return undefined;
  if (nowMs - seen.at > NONCE_WINDOW_MS) {
    state.nonces.delete(key);
    return undefined;
  }
  return state.messages.get(seen.messageId);
}

export function rememberNonce(state: FakeGuildState, message: FakeMessage, nowMs = Date.now()) {
  if (message.nonce === undefined) return;
  const key = `${message.channel_id}/${message.author.id}/${message.nonce}`;
  state.nonces.set(key, { messageId: message.id, at: nowMs });
}

/** A channel's messages, oldest first. */
export const messagesIn = (state: FakeGuildState, channelId: string): FakeMessage[] =>
  [...state.messages.values()].filter((m) => m.channel_id === channelId);

/** A channel (not a thread) by name. */
export const channelNamed = (state: FakeGuildState, name: string): FakeChannel | undefined =>
  [...state.channels.values()].find((c) => c.name === name && !isThreadType(c.type));

/** An overwrite's bits by name, for readable assertions: `{ allow: ['VIEW_CHANNEL'], deny: [] }`. */
export function overwriteNames(
  channel: FakeChannel | undefined,
  targetId: string,
): { allow: string[]; deny: string[] } | undefined {
  const overwrite = channel?.permission_overwrites.find((o) => o.id === targetId);
  if (!overwrite) return undefined;
  const names = (bits: string) =>
    Object.entries(PERMISSION_BITS)
      .filter(([, bit]) => (BigInt(bits) & bit) !== 0n)
      .map(([name]) => name);
  return { allow: names(overwrite.allow), deny: names(overwrite.deny) };
}
