import {
  type Answer,
  fail,
  type MethodContext,
  type MethodHandler,
  type Params,
  parseBlocks,
  str,
  visibleChannel,
} from './params.js';
import {
  type FakeChannel,
  type FakeMessage,
  findMessage,
  nextTs,
  storeMessage,
} from './workspace.js';

const MAX_TEXT = 40_000;

/** The channel a bot may write to: visible, not archived, and the bot a member of it. */
function writable(ctx: MethodContext, params: Params): FakeChannel | Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  if (channel.archived) return fail('is_archived');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  return channel;
}

/** Text and blocks as Slack checks them: one of the two, within limits. */
function content(params: Params): { text: string; blocks?: unknown[] } | Answer {
  const blocks = parseBlocks(params);
  if (blocks && 'error' in blocks) return fail(blocks.error);
  const text = str(params, 'text') ?? '';
  if (!text && !blocks) return fail('no_text');
  if (text.length > MAX_TEXT) return fail('msg_too_long');
  return blocks ? { text, blocks } : { text };
}

const isAnswer = (value: object): value is Answer => 'ok' in value;

/** A message as the Web API returns it (`objs_message`, the fields the app reads). */
export function messageJson(ctx: MethodContext, m: FakeMessage): Record<string, unknown> {
  return {
    type: 'message',
    text: m.text,
    user: m.user,
    ts: m.ts,
    team: ctx.ws.team.id,
    ...(m.bot_id ? { bot_id: m.bot_id, app_id: ctx.ws.bot.appId } : {}),
    ...(m.blocks ? { blocks: m.blocks } : {}),
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
  };
}

function postMessage(ctx: MethodContext, params: Params): Answer {
  const channel = writable(ctx, params);
  if (isAnswer(channel)) return channel;
  const body = content(params);
  if (isAnswer(body)) return body;
  let threadTs = str(params, 'thread_ts');
  if (threadTs) {
    // Slack threads a reply to a reply under the first message of that thread.
    const parent = findMessage(ctx.ws, channel.id, threadTs);
    if (!parent) return fail('thread_not_found');
    threadTs = parent.thread_ts ?? parent.ts;
  }
  const message: FakeMessage = {
    ts: nextTs(ctx.nowMs),
    ...body,
    user: ctx.ws.bot.userId,
    bot_id: ctx.ws.bot.botId,
    ...(threadTs ? { thread_ts: threadTs } : {}),
  };
  storeMessage(ctx.ws, channel.id, message);
  return { ok: true, channel: channel.id, ts: message.ts, message: messageJson(ctx, message) };
}

function update(ctx: MethodContext, params: Params): Answer {
  const channel = writable(ctx, params);
  if (isAnswer(channel)) return channel;
  const ts = str(params, 'ts') ?? '';
  const message = findMessage(ctx.ws, channel.id, ts);
  if (!message) return fail('message_not_found');
  if (message.user !== ctx.ws.bot.userId) return fail('cant_update_message');
  const body = content(params);
  if (isAnswer(body)) return body;
  message.text = body.text;
  if (body.blocks) message.blocks = body.blocks;
  else delete message.blocks;
  message.edited = { user: ctx.ws.bot.userId, ts: nextTs(ctx.nowMs) };
  return {
    ok: true,
    channel: channel.id,
    ts,
    text: message.text,
    message: messageJson(ctx, message),
  };
}

function postEphemeral(ctx: MethodContext, params: Params): Answer {
  const channel = writable(ctx, params);
  if (isAnswer(channel)) return channel;
  const user = str(params, 'user') ?? '';
  if (!ctx.ws.users.has(user)) return fail('user_not_found');
  if (!channel.members.includes(user)) return fail('user_not_in_channel');
  const body = content(params);
  if (isAnswer(body)) return body;
  const messageTs = nextTs(ctx.nowMs);
  ctx.ws.ephemerals.push({ channel: channel.id, user, ...body, message_ts: messageTs });
  return { ok: true, message_ts: messageTs };
}

function pinsAdd(ctx: MethodContext, params: Params): Answer {
  const channel = visibleChannel(ctx, str(params, 'channel'));
  if (!channel) return fail('channel_not_found');
  if (!channel.members.includes(ctx.ws.bot.userId)) return fail('not_in_channel');
  const ts = str(params, 'timestamp');
  if (!ts) return fail('no_item_specified');
  if (!findMessage(ctx.ws, channel.id, ts)) return fail('message_not_found');
  const pins = ctx.ws.pins.get(channel.id) ?? [];
  ctx.ws.pins.set(channel.id, pins);
  if (pins.includes(ts)) return fail('already_pinned');
  if (pins.length >= 100) return fail('too_many_pins');
  pins.push(ts);
  return { ok: true };
}

export const CHAT_METHODS: Record<string, MethodHandler> = {
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'pins.add': pinsAdd,
};
