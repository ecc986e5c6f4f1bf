import { messageJson } from './chat-methods.js';
import {
  type Answer,
  fail,
  flag,
  list,
  type MethodContext,
  type MethodHandler,
  type Params,
  str,
  visibleChannel,
} from './params.js';
import {
  addChannel,
  channelByName,
  conversationJson,
  type FakeMessage,
  findMessage,
  messagesIn,
  nextId,
} from './workspace.js';

// Slack's rule: lowercase letters, digits, hyphens and underscores, at most 80 characters.
const CHANNEL_NAME = /^[a-z0-9_-]+$/;

function create(ctx: MethodContext, params: Params): Answer {
  const name = str(params, 'name') ?? '';
  if (!name) return fail('invalid_name_required');
  if (name.length > 80) return fail('invalid_name_maxlength');
  if (!CHANNEL_NAME.test(name)) return fail('invalid_name_specials');
  if (/^[-_]+$/.test(name)) return fail('invalid_name_punctuation');
  // Archived channels keep their names, as on Slack.
  if (channelByName(ctx.ws, name)) return fail('name_taken');
  const channel = addChannel(ctx.ws, {
    id: nextId(flag(params, 'is_private') ? 'G' : 'C'),
    name,
    is_private: flag(params, 'is_private'),
    created: Math.floor(ctx.nowMs / 1000),
  });
  return { ok: true, channel: conversationJson(ctx.ws, channel) };
}

/**
 * All or nothing, as Slack does it: one unknown user or one user already in the channel fails
 * the whole call (`errors` says which), and nobody is added.
 */
function invite(ctx: MethodContext, params: Params): Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel || channel.is_im) return fail('channel_not_found');
  if (channel.archived) return fail('is_archived');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  const users = list(params, 'users');
  if (users.length === 0) return fail('no_user');
  if (users.length > 1000) return fail('too_many_users');
  const perUser = (error: string) => (user: string) => ({ user, ok: false, error });
  const unknown = users.filter((u) => !ctx.ws.users.get(u) || ctx.ws.users.get(u)?.deleted);
  if (unknown.length)
    return fail('user_not_found', { errors: unknown.map(perUser('user_not_found')) });
  if (users.includes(ctx.ws.bot.userId)) return fail('cant_invite_self');
  const already = users.filter((u) => channel.members.includes(u));
  if (already.length) {
    return fail('already_in_channel', { errors: already.map(perUser('already_in_channel')) });
  }
  channel.members.push(...users);
  return { ok: true, channel: conversationJson(ctx.ws, channel) };
}

function archive(ctx: MethodContext, params: Params): Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  if (channel.is_im || channel.is_mpim) return fail('method_not_supported_for_channel_type');
  if (channel.archived) return fail('already_archived');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  channel.archived = true;
  return { ok: true };
}

/** Cursors are opaque to the app; here they encode the offset of the next page. */
const encodeCursor = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64');
function decodeCursor(cursor: string): number | undefined {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

function setTopic(ctx: MethodContext, params: Params): Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  if (channel.archived) return fail('is_archived');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  const topic = str(params, 'topic') ?? '';
  if (topic.length > 250) return fail('too_long');
  channel.topic = topic;
  return { ok: true, channel: conversationJson(ctx.ws, channel) };
}

function listConversations(ctx: MethodContext, params: Params): Answer {
  const types = list(params, 'types');
  const wanted = new Set(types.length ? types : ['public_channel']);
  const limitText = str(params, 'limit');
  const limit = limitText === undefined ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return fail('invalid_limit');
  const cursor = str(params, 'cursor');
  const offset = cursor ? decodeCursor(cursor) : 0;
  if (offset === undefined) return fail('invalid_cursor');
  const matching = [...ctx.ws.channels.values()].filter((c) => {
    const type = c.is_im
      ? 'im'
      : c.is_mpim
        ? 'mpim'
        : c.is_private
          ? 'private_channel'
          : 'public_channel';
    if (!wanted.has(type)) return false;
    if (flag(params, 'exclude_archived') && c.archived) return false;
    return visibleChannel(ctx, c.id) !== undefined;
  });
  const page = matching.slice(offset, offset + Math.min(limit, 1000));
  const next = offset + page.length < matching.length ? encodeCursor(offset + page.length) : '';
  return {
    ok: true,
    channels: page.map((c) => conversationJson(ctx.ws, c)),
    response_metadata: { next_cursor: next },
  };
}

function info(ctx: MethodContext, params: Params): Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  return { ok: true, channel: conversationJson(ctx.ws, channel) };
}

function open(ctx: MethodContext, params: Params): Answer {
  const users = list(params, 'users');
  const channelId = str(params, 'channel');
  if (channelId) {
    const channel = visibleChannel(ctx, channelId);
    return channel ? { ok: true, channel: { id: channel.id } } : fail('channel_not_found');
  }
  if (users.length === 0) return fail('users_list_not_supplied');
  if (users.length > 8) return fail('too_many_users');
  if (users.some((u) => !ctx.ws.users.has(u))) return fail('user_not_found');
  if (users.length > 1) {
    const members = [ctx.ws.bot.userId, ...users];
    const mpim = addChannel(ctx.ws, {
      id: nextId('G'),
      name: `mpdm-${members.join('--')}-1`,
      is_private: true,
      is_mpim: true,
      members,
    });
    return { ok: true, channel: { id: mpim.id } };
  }
  const user = users[0] ?? '';
  const existing = ctx.ws.ims.get(user);
  if (existing) return { ok: true, no_op: true, already_open: true, channel: { id: existing } };
  const im = addChannel(ctx.ws, {
    id: nextId('D'),
    name: user,
    is_private: true,
    is_im: true,
    members: [ctx.ws.bot.userId, user],
  });
  ctx.ws.ims.set(user, im.id);
  return { ok: true, channel: { id: im.id } };
}

/** A Slack timestamp (`1700000000.000042`, or `1700000000`) as microseconds, for comparing. */
function micros(ts: string): bigint | undefined {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(ts);
  if (!match?.[1]) return undefined;
  return BigInt(match[1]) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}

interface Window {
  oldest: bigint;
  latest: bigint | undefined;
  inclusive: boolean;
  limit: number;
  offset: number;
}

/** `oldest`, `latest`, `inclusive`, `limit` (default 100, at most 999) and `cursor`, as Slack reads them. */
function readWindow(params: Params): Window | Answer {
  const oldest = micros(str(params, 'oldest') ?? '0');
  const latestText = str(params, 'latest');
  const latest = latestText === undefined ? undefined : micros(latestText);
  if (oldest === undefined) return fail('invalid_ts_oldest');
  if (latestText !== undefined && latest === undefined) return fail('invalid_ts_latest');
  const limitText = str(params, 'limit');
  const limit = limitText === undefined ? 100 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) return fail('invalid_limit');
  const cursor = str(params, 'cursor');
  const offset = cursor ? decodeCursor(cursor) : 0;
  if (offset === undefined) return fail('invalid_cursor');
  return {
    oldest,
    latest,
    inclusive: flag(params, 'inclusive'),
    limit: Math.min(limit || 100, 999),
    offset,
  };
}

const isWindow = (w: Window | Answer): w is Window => !('ok' in w);

function within(w: Window, ts: string): boolean {
  const t = micros(ts) ?? 0n;
  const afterOldest = w.inclusive ? t >= w.oldest : t > w.oldest;
  const beforeLatest = w.latest === undefined || (w.inclusive ? t <= w.latest : t < w.latest);
  return afterOldest && beforeLatest;
}

/** One page of `messages` from the window's offset, with `has_more` and the next cursor. */
function page(ctx: MethodContext, w: Window, messages: FakeMessage[]) {
  const slice = messages.slice(w.offset, w.offset + w.limit);
  const more = w.offset + slice.length < messages.length;
  return {
    messages: slice.map((m) => messageJson(ctx, m)),
    has_more: more,
    ...(more ? { response_metadata: { next_cursor: encodeCursor(w.offset + slice.length) } } : {}),
  };
}

/** A conversation the bot may read: visible to it, and (unlike the API for people) joined. */
function readable(ctx: MethodContext, params: Params) {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  return channel;
}

/**
 * The conversation's messages in the window, newest first. Thread replies are not listed (they
 * are read with conversations.replies); a parent is, with its thread fields.
 */
function history(ctx: MethodContext, params: Params): Answer {
  const channel = readable(ctx, params);
  if ('ok' in channel) return channel;
  const w = readWindow(params);
  if (!isWindow(w)) return w;
  const listed = messagesIn(ctx.ws, channel.id)
    .filter((m) => (!m.thread_ts || m.thread_ts === m.ts) && within(w, m.ts))
    .reverse();
  return {
    ok: true,
    ...page(ctx, w, listed),
    pin_count: ctx.ws.pins.get(channel.id)?.length ?? 0,
    channel_actions_ts: null,
    channel_actions_count: 0,
  };
}

/**
 * A thread, oldest first: its parent (always, as the first message of the first page), then the
 * replies in the window. A message without replies is a thread of one.
 */
function replies(ctx: MethodContext, params: Params): Answer {
  const channel = readable(ctx, params);
  if ('ok' in channel) return channel;
  const w = readWindow(params);
  if (!isWindow(w)) return w;
  const parent = findMessage(ctx.ws, channel.id, str(params, 'ts') ?? '');
  if (!parent) return fail('thread_not_found');
  const root = parent.thread_ts ?? parent.ts;
  const first = findMessage(ctx.ws, channel.id, root) ?? parent;
  const thread = messagesIn(ctx.ws, channel.id).filter(
    (m) => m.thread_ts === root && m.ts !== root && within(w, m.ts),
  );
  const answer = page(ctx, w, [first, ...thread]);
  const replyCount = messagesIn(ctx.ws, channel.id).filter(
    (m) => m.thread_ts === root && m.ts !== root,
  ).length;
  return {
    ok: true,
    ...answer,
    messages: answer.messages.map((m) =>
      m.ts === root
        ? { ...m, reply_count: replyCount, subscribed: false }
        : { ...m, parent_user_id: first.user },
    ),
  };
}

function authTest(ctx: MethodContext): Answer {
  const { team, bot } = ctx.ws;
  return {
    ok: true,
    url: `https://${team.domain}.slack.com/`,
    team: team.name,
    user: bot.name,
    team_id: team.id,
    user_id: bot.userId,
    bot_id: bot.botId,
    is_enterprise_install: false,
  };
}

function usersInfo(ctx: MethodContext, params: Params): Answer {
  const user = ctx.ws.users.get(str(params, 'user') ?? '');
  if (!user) return fail('user_not_found');
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: ctx.ws.team.id,
      name: user.name,
      real_name: user.real_name,
      deleted: user.deleted,
      is_bot: user.is_bot,
      tz: user.tz,
      profile: { real_name: user.real_name, display_name: user.name },
    },
  };
}

export const CONVERSATION_METHODS: Record<string, MethodHandler> = {
  'auth.test': authTest,
  'conversations.create': create,
  'conversations.invite': invite,
  'conversations.archive': archive,
  'conversations.list': listConversations,
  'conversations.history': history,
  'conversations.replies': replies,
  'conversations.info': info,
  'conversations.open': open,
  'conversations.setTopic': setTopic,
  'users.info': usersInfo,
};
