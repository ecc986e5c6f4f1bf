import { dispatchChannel, dispatchMessage } from './events.js';
import { channelJson, messageJson } from './json.js';
import { readMessageBody } from './message-rules.js';
import {
  DiscordApiError,
  type FakeContext,
  INVALID_FORM,
  objectBody,
  ok,
  type RouteDef,
  type RouteRequest,
  UNKNOWN_CHANNEL,
  UNKNOWN_MESSAGE,
} from './routes.js';
import { readOverwrite } from './routes-guild.js';
import {
  addMessage,
  addThread,
  CHANNEL,
  isThreadType,
  messageByNonce,
  rememberNonce,
} from './state.js';

const WRONG_CHANNEL_TYPE = () =>
  new DiscordApiError(400, 50024, 'Cannot execute action on this channel type');

function channelOf(ctx: FakeContext, id: string | undefined) {
  const channel = id ? ctx.state.channels.get(id) : undefined;
  if (!channel) throw UNKNOWN_CHANNEL();
  return channel;
}

function messageOf(ctx: FakeContext, channelId: string | undefined, id: string | undefined) {
  const message = id ? ctx.state.messages.get(id) : undefined;
  if (!message || message.channel_id !== channelId) throw UNKNOWN_MESSAGE();
  return message;
}

function pin({ params }: RouteRequest, ctx: FakeContext) {
  channelOf(ctx, params.channel_id);
  const message = messageOf(ctx, params.channel_id, params.message_id);
  const pins = ctx.state.pins.get(message.channel_id) ?? [];
  if (!pins.includes(message.id)) {
    if (pins.length >= 50)
      throw new DiscordApiError(400, 30003, 'Maximum number of pins reached (50)');
    pins.push(message.id);
  }
  ctx.state.pins.set(message.channel_id, pins);
  message.pinned = true;
  return ok();
}

/** Channels, their messages, pins, threads and permission overwrites. */
export const channelRoutes: RouteDef[] = [
  {
    method: 'GET',
    template: '/channels/{channel_id}',
    handle: ({ params }, ctx) => ok(channelJson(channelOf(ctx, params.channel_id))),
  },
  {
    method: 'PATCH',
    template: '/channels/{channel_id}',
    handle: ({ params, body }, ctx) => {
      const channel = channelOf(ctx, params.channel_id);
      const b = objectBody(body);
      if (b.name !== undefined) {
        if (typeof b.name !== 'string' || b.name.length < 1 || b.name.length > 100)
          throw INVALID_FORM('name must be 1–100 characters');
        channel.name = b.name;
      }
      if (b.topic !== undefined) {
        if (b.topic !== null && (typeof b.topic !== 'string' || b.topic.length > 1024))
          throw INVALID_FORM('topic must be at most 1024 characters');
        channel.topic = b.topic;
      }
      if (Array.isArray(b.permission_overwrites)) {
        if (isThreadType(channel.type)) throw WRONG_CHANNEL_TYPE();
        channel.permission_overwrites = b.permission_overwrites.map((o) => readOverwrite(ctx, o));
      }
      dispatchChannel(ctx, 'update', channel);
      return ok(channelJson(channel));
    },
  },
  {
    method: 'PUT',
    template: '/channels/{channel_id}/permissions/{overwrite_id}',
    handle: ({ params, body }, ctx) => {
      const channel = channelOf(ctx, params.channel_id);
      if (isThreadType(channel.type) || channel.type === CHANNEL.dm) throw WRONG_CHANNEL_TYPE();
      const overwrite = readOverwrite(ctx, body, params.overwrite_id);
      channel.permission_overwrites = [
        ...channel.permission_overwrites.filter((o) => o.id !== overwrite.id),
        overwrite,
      ];
      dispatchChannel(ctx, 'update', channel);
      return ok();
    },
  },
  {
    method: 'POST',
    template: '/channels/{channel_id}/messages',
    handle: ({ params, body }, ctx) => {
      const channel = channelOf(ctx, params.channel_id);
      if (channel.type === CHANNEL.category) throw WRONG_CHANNEL_TYPE();
      const parts = readMessageBody(body, 'create');
      // With enforce_nonce, a nonce this author used here moments ago answers with that message.
      if (parts.enforceNonce && parts.nonce !== undefined) {
        const earlier = messageByNonce(ctx.state, channel.id, ctx.state.bot.id, parts.nonce);
        if (earlier) return ok(messageJson(ctx.state, earlier));
      }
      const ref = parts.messageReference;
      if (ref?.fail_if_not_exists && !ctx.state.messages.has(ref.message_id))
        throw INVALID_FORM('message_reference: Unknown message');
      const message = addMessage(ctx.state, channel, ctx.state.bot, {
        content: parts.content ?? '',
        embeds: parts.embeds ?? [],
        components: parts.components ?? [],
        flags: parts.flags ?? 0,
        ...(parts.nonce !== undefined ? { nonce: parts.nonce } : {}),
        ...(ref
          ? { type: 19, message_reference: { message_id: ref.message_id, channel_id: channel.id } }
          : {}),
      });
      rememberNonce(ctx.state, message);
      dispatchMessage(ctx, 'MESSAGE_CREATE', message);
      return ok(messageJson(ctx.state, message));
    },
  },
  {
    method: 'GET',
    template: '/channels/{channel_id}/messages/{message_id}',
    handle: ({ params }, ctx) => {
      channelOf(ctx, params.channel_id);
      return ok(messageJson(ctx.state, messageOf(ctx, params.channel_id, params.message_id)));
    },
  },
  {
    method: 'PATCH',
    template: '/channels/{channel_id}/messages/{message_id}',
    handle: ({ params, body }, ctx) => {
      channelOf(ctx, params.channel_id);
      const message = messageOf(ctx, params.channel_id, params.message_id);
      if (message.author.id !== ctx.state.bot.id)
        throw new DiscordApiError(403, 50005, 'Cannot edit a message authored by another user');
      const parts = readMessageBody(body, 'edit');
      if (parts.content !== undefined) message.content = parts.content;
      if (parts.embeds !== undefined) message.embeds = parts.embeds;
      if (parts.components !== undefined) message.components = parts.components;
      message.edited_timestamp = new Date().toISOString();
      dispatchMessage(ctx, 'MESSAGE_UPDATE', message);
      return ok(messageJson(ctx.state, message));
    },
  },
  // The current pin route and its deprecated twin; both are in Discord's description.
  { method: 'PUT', template: '/channels/{channel_id}/messages/pins/{message_id}', handle: pin },
  { method: 'PUT', template: '/channels/{channel_id}/pins/{message_id}', handle: pin },
  {
    method: 'POST',
    template: '/channels/{channel_id}/messages/{message_id}/threads',
    handle: ({ params, body }, ctx) => {
      const parent = channelOf(ctx, params.channel_id);
      if (parent.type !== CHANNEL.text && parent.type !== 5) throw WRONG_CHANNEL_TYPE();
      const message = messageOf(ctx, parent.id, params.message_id);
      if (ctx.state.channels.has(message.id))
        throw new DiscordApiError(
          400,
          160004,
          'A thread has already been created for this message',
        );
      const name = objectBody(body).name;
      if (typeof name !== 'string' || name.length < 1 || name.length > 100)
        throw INVALID_FORM('name must be 1–100 characters');
      const thread = addThread(ctx.state, parent, message.id, name, ctx.state.bot.id);
      dispatchChannel(ctx, 'create', thread);
      return { status: 201, body: channelJson(thread) };
    },
  },
];
