import { dispatchChannel, dispatchMessage } from './events.js';
import { snowflake } from './ids.js';
import type { FakeContext } from './routes.js';
import {
  addMessage,
  addThread,
  type FakeChannel,
  type FakeMessage,
  type FakeUser,
  makeUser,
} from './state.js';

/** People's side of the guild: what they write and edit, announced on the gateway. */

/** A message someone (not the bot) writes in the guild. */
export interface UserMessageInput {
  /** Channel id (default #general); with `threadOf`, the thread's parent. */
  channel?: string;
  /** Author id (default alice). */
  user?: string;
  content: string;
  /** Post in the thread of this message, starting the thread if it has none. */
  threadOf?: string;
  /**
   * Reply to this message of the same channel (Discord's "Reply": type 19 with a
   * `message_reference`), as people answer the bot's direct messages, which have no threads.
   */
  replyTo?: string;
  /** Sent through a webhook (as bridges and integrations do). */
  webhook?: boolean;
}

const byName = (ctx: FakeContext, name: string) =>
  [...ctx.state.users.values()].find((u) => u.username === name);

/** MESSAGE_CREATE for a person's message (a thread's first reply also starts the thread). */
export function sendUserMessage(ctx: FakeContext, input: UserMessageInput): FakeMessage {
  let channel = input.channel
    ? ctx.state.channels.get(input.channel)
    : [...ctx.state.channels.values()].find((c) => c.name === 'general');
  if (!channel) throw new Error(`fake Discord: no channel ${input.channel}`);
  const author = input.webhook
    ? { ...makeUser('Captain Hook', true), id: snowflake() }
    : input.user
      ? ctx.state.users.get(input.user)
      : byName(ctx, 'alice');
  if (!author) throw new Error(`fake Discord: no user ${input.user}`);
  if (input.threadOf) channel = threadOf(ctx, channel, input.threadOf, author);
  if (input.replyTo && ctx.state.messages.get(input.replyTo)?.channel_id !== channel.id)
    throw new Error('fake Discord: a reply must be to a message of the same channel');
  const message = addMessage(ctx.state, channel, author, {
    content: input.content,
    ...(input.webhook ? { webhook_id: snowflake() } : {}),
    ...(input.replyTo
      ? { type: 19, message_reference: { message_id: input.replyTo, channel_id: channel.id } }
      : {}),
  });
  dispatchMessage(ctx, 'MESSAGE_CREATE', message);
  return message;
}

function threadOf(
  ctx: FakeContext,
  parent: FakeChannel,
  messageId: string,
  starter: FakeUser,
): FakeChannel {
  const existing = ctx.state.channels.get(messageId);
  if (existing) return existing;
  const root = ctx.state.messages.get(messageId);
  if (!root || root.channel_id !== parent.id) throw new Error('fake Discord: no such message');
  const name = root.content.slice(0, 50) || 'thread';
  const thread = addThread(ctx.state, parent, messageId, name, starter.id);
  dispatchChannel(ctx, 'create', thread);
  // Discord also announces the thread in its parent with a system message (type 18).
  const notice = addMessage(ctx.state, parent, starter, { content: name, type: 18 });
  dispatchMessage(ctx, 'MESSAGE_CREATE', notice);
  return thread;
}

/** MESSAGE_UPDATE for a person's edit, with a new `edited_timestamp`. */
export function editUserMessage(
  ctx: FakeContext,
  input: { message: string; content: string },
): FakeMessage {
  const message = ctx.state.messages.get(input.message);
  if (!message) throw new Error(`fake Discord: no message ${input.message}`);
  message.content = input.content;
  message.edited_timestamp = new Date().toISOString();
  dispatchMessage(ctx, 'MESSAGE_UPDATE', message);
  return message;
}
