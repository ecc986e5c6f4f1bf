/**
 * The fake Slack workspace: users, conversations, messages and pins, as plain objects that tests
 * can read and arrange directly. The Web API handlers in `methods.ts` are the only writers during
 * a test run; tests use the helpers here to set the scene.
 */

export interface FakeUser {
  id: string;
  /** The handle (`kadri`), what slash commands report as `user_name`. */
  name: string;
  real_name: string;
  is_bot: boolean;
  tz: string;
  deleted: boolean;
}

export interface FakeChannel {
  id: string;
  name: string;
  is_private: boolean;
  /** A direct message (`D…`): `name` is the other user's id. */
  is_im: boolean;
  is_mpim: boolean;
  members: string[];
  archived: boolean;
  /** Seconds since the epoch, as Slack reports `created`. */
  created: number;
  creator: string;
  topic: string;
}

export interface FakeMessage {
  ts: string;
  /** Set on replies (the parent's ts) and on parents that have replies (their own ts). */
  thread_ts?: string;
  text: string;
  blocks?: unknown[];
  user: string;
  bot_id?: string;
  edited?: { user: string; ts: string };
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  message_ts: string;
}

export interface SlackWorkspace {
  team: { id: string; name: string; domain: string };
  bot: { userId: string; botId: string; appId: string; name: string };
  users: Map<string, FakeUser>;
  channels: Map<string, FakeChannel>;
  /** Per channel id, oldest first. */
  messages: Map<string, FakeMessage[]>;
  /** Per channel id, the pinned message timestamps. */
  pins: Map<string, string[]>;
  /** Per user id, the id of the bot's direct-message conversation with them. */
  ims: Map<string, string>;
  ephemerals: FakeEphemeral[];
}

let idSeq = 0;
/** Slack-shaped ids (`C00000007`), unique across every fake started by this process. */
export const nextId = (prefix: 'C' | 'G' | 'D' | 'U' | 'B' | 'A' | 'T' | 'Ev') =>
  `${prefix}${String(++idSeq).padStart(8, '0')}`;

let lastSecond = 0;
let tsSeq = 0;
/** Message timestamps are ids too: unique and increasing, `1700000000.000042`. */
export function nextTs(nowMs = Date.now()): string {
  const second = Math.floor(nowMs / 1000);
  if (second > lastSecond) {
    lastSecond = second;
    tsSeq = 0;
  }
  tsSeq++;
  return `${lastSecond}.${String(tsSeq).padStart(6, '0')}`;
}

export function createWorkspace(): SlackWorkspace {
  const bot = { userId: nextId('U'), botId: nextId('B'), appId: nextId('A'), name: 'concord' };
  const ws: SlackWorkspace = {
    team: { id: nextId('T'), name: 'Allied Cyber Forum', domain: 'allied-cyber' },
    bot,
    users: new Map(),
    channels: new Map(),
    messages: new Map(),
    pins: new Map(),
    ims: new Map(),
    ephemerals: [],
  };
  ws.users.set(bot.userId, {
    id: bot.userId,
    name: bot.name,
    real_name: 'Concord',
    is_bot: true,
    tz: 'UTC',
    deleted: false,
  });
  return ws;
}

export function addUser(ws: SlackWorkspace, user: Partial<FakeUser> & { name: string }): FakeUser {
  const full: FakeUser = {
    id: user.id ?? nextId('U'),
    real_name: user.real_name ?? user.name,
    is_bot: false,
    tz: 'Europe/Tallinn',
    deleted: false,
    ...user,
  };
  ws.users.set(full.id, full);
  return full;
}

/** A channel that exists before the test starts (the bot is a member unless `members` says not). */
export function addChannel(
  ws: SlackWorkspace,
  channel: Partial<FakeChannel> & { name: string },
): FakeChannel {
  const full: FakeChannel = {
    id: channel.id ?? nextId(channel.is_private ? 'G' : 'C'),
    is_private: false,
    is_im: false,
    is_mpim: false,
    members: [ws.bot.userId],
    archived: false,
    created: Math.floor(Date.now() / 1000),
    creator: ws.bot.userId,
    topic: '',
    ...channel,
  };
  ws.channels.set(full.id, full);
  ws.messages.set(full.id, []);
  return full;
}

export const channelByName = (ws: SlackWorkspace, name: string) =>
  [...ws.channels.values()].find((c) => c.name === name && !c.is_im);

export const messagesIn = (ws: SlackWorkspace, channel: string): FakeMessage[] =>
  ws.messages.get(channel) ?? [];

export const findMessage = (ws: SlackWorkspace, channel: string, ts: string) =>
  messagesIn(ws, channel).find((m) => m.ts === ts);

/** Adds a message as Slack stores it; a reply marks its parent as a thread. */
export function storeMessage(ws: SlackWorkspace, channel: string, message: FakeMessage): void {
  const list = ws.messages.get(channel) ?? [];
  ws.messages.set(channel, list);
  list.push(message);
  if (message.thread_ts && message.thread_ts !== message.ts) {
    const parent = list.find((m) => m.ts === message.thread_ts);
    if (parent) parent.thread_ts = parent.ts;
  }
}

/** The conversation as the Web API returns it (`objs_conversation`, the fields the app reads). */
export function conversationJson(ws: SlackWorkspace, c: FakeChannel): Record<string, unknown> {
  if (c.is_im) {
    return { id: c.id, is_im: true, user: c.name, created: c.created, is_user_deleted: false };
  }
  return {
    id: c.id,
    name: c.name,
    name_normalized: c.name,
    is_channel: !c.is_private && !c.is_mpim,
    is_group: c.is_private && !c.is_mpim,
    is_im: false,
    is_mpim: c.is_mpim,
    is_private: c.is_private,
    is_archived: c.archived,
    is_general: false,
    is_shared: false,
    is_org_shared: false,
    is_member: c.members.includes(ws.bot.userId),
    created: c.created,
    creator: c.creator,
    num_members: c.members.length,
    topic: { value: c.topic, creator: c.topic ? c.creator : '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
  };
}
