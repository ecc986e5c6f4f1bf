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
import { addChannel, channelByName, conversationJson, nextId } from './workspace.js';

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
  'conversations.info': info,
  'conversations.open': open,
  'conversations.setTopic': setTopic,
  'users.info': usersInfo,
};
