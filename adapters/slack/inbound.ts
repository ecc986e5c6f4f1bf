import { randomUUID } from 'node:crypto';
import type { App, BlockAction, RespondFn } from '@slack/bolt';
import type { ChatInbound, CommandReply, InboundMessage } from '../../src/chat/port.js';
import type { Logger } from '../../src/log.js';
import { slackChannel, slackMessage, slackUser } from './refs.js';
import { renderForSlack } from './render.js';

/** The fields of a `message` event (and of the message inside `message_changed`) we read. */
interface RawMessage {
  subtype?: string;
  channel?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  message?: RawMessage;
  previous_message?: RawMessage;
}

// Postgres text cannot hold NUL (0x00): a signed request with one in an id (Slack never sends
// one; found by the fuzz, test/fuzz) failed in the database as an internal error. Such a request
// is dropped; from free text the character is removed (in command text the parser refuses it).
const hasNul = (...values: unknown[]) =>
  values.some((value) => typeof value === 'string' && value.includes('\u0000'));
const withoutNul = (text: string) => text.replaceAll('\u0000', '');

// Subtypes that are a person saying something; joins, topic changes and the like are not.
const SPOKEN_SUBTYPES = new Set([undefined, 'thread_broadcast', 'file_share', 'me_message']);

/**
 * A `message` event in the core's terms, or undefined when it is not one the core relays: any
 * bot's message (this bot's relayed copies above all, so they never echo back), system subtypes,
 * and edits that change no text (Slack sends those when it unfurls a link).
 */
export function toInboundMessage(
  event: RawMessage,
  eventId: string,
  botUserId: string,
): InboundMessage | undefined {
  const edited = event.subtype === 'message_changed';
  const said = edited ? event.message : event;
  if (!said || !event.channel || (!edited && !SPOKEN_SUBTYPES.has(event.subtype))) return undefined;
  if (said.bot_id || said.subtype === 'bot_message' || said.user === botUserId) return undefined;
  if (!said.user || !said.ts) return undefined;
  if (edited && said.text === event.previous_message?.text) return undefined;
  // Ids must be strings without NUL (see hasNul); a signed event with anything else in them is
  // not a message anyone said (found by the fuzz, test/fuzz).
  const ids = [eventId, said.user, event.channel, said.ts, said.thread_ts ?? ''];
  if (ids.some((id) => typeof id !== 'string') || hasNul(...ids)) return undefined;
  const inThread = said.thread_ts !== undefined && said.thread_ts !== said.ts;
  return {
    deliveryKey: `slack:evt:${eventId}`,
    user: slackUser(said.user),
    channel: slackChannel(event.channel),
    message: slackMessage(event.channel, said.ts),
    ...(inThread && said.thread_ts ? { thread: slackMessage(event.channel, said.thread_ts) } : {}),
    text: typeof said.text === 'string' ? withoutNul(said.text) : '',
    ...(edited ? { edited: true } : {}),
  };
}

/**
 * Bolt gives a listener `respond` only when the request carried a `response_url`. Slack always
 * sends one, but a signed request without it (found by the fuzz, test/fuzz) must not turn the
 * reply into a TypeError: the reply has nowhere to go, so it is logged instead.
 */
function canRespond(respond: RespondFn | undefined, logger: Logger): respond is RespondFn {
  if (typeof respond === 'function') return true;
  logger.warn('slack request without a response_url: the reply is not sent');
  return false;
}

/** Sends the core's reply through the response_url (never a stack trace, never a throw). */
async function answer(respond: RespondFn, reply: CommandReply, logger: Logger): Promise<void> {
  if (!canRespond(respond, logger)) return;
  const { text, blocks } = renderForSlack(reply.message);
  const responseType = reply.visibility === 'channel' ? 'in_channel' : 'ephemeral';
  await respond({ response_type: responseType, text, blocks }).catch((error: unknown) =>
    logger.error({ err: error }, 'slack response_url post failed'),
  );
}

/** Logs the failure under a short reference and tells the person, in one line, with that ref. */
async function apologise(respond: RespondFn, error: unknown, logger: Logger): Promise<void> {
  const ref = randomUUID().slice(0, 8);
  logger.error({ err: error, ref }, 'slack interaction failed');
  if (!canRespond(respond, logger)) return;
  await respond({
    response_type: 'ephemeral',
    text: `Sorry, that did not work (ref ${ref}). It has been logged.`,
  }).catch((e: unknown) => logger.error({ err: e, ref }, 'slack apology not delivered'));
}

export interface InboundOptions {
  inbound: ChatInbound;
  logger: Logger;
  botUserId: string;
}

/**
 * Bolt listeners that turn Slack's commands, button presses and messages into calls on the
 * core. Slack's HTTP 200 has already left by the time they run (the Slack screen sends it);
 * each still calls Bolt's `ack` first, as Bolt expects of a listener, which does nothing more.
 */
export function registerInbound(app: App, { inbound, logger, botUserId }: InboundOptions): void {
  app.command(/.*/, async ({ command, ack, respond }) => {
    await ack();
    if (hasNul(command.trigger_id, command.user_id, command.channel_id)) {
      logger.warn('slack command with a NUL in an id: dropped');
      return;
    }
    try {
      const reply = await inbound.command({
        deliveryKey: `slack:cmd:${command.trigger_id}`,
        user: slackUser(command.user_id),
        channel: slackChannel(command.channel_id),
        text: `${command.command} ${command.text}`.trim(),
        ...(typeof command.user_name === 'string'
          ? { userName: withoutNul(command.user_name) }
          : {}),
      });
      if (reply) await answer(respond, reply, logger);
    } catch (error) {
      await apologise(respond, error, logger);
    }
  });

  app.action<BlockAction>({ type: 'block_actions' }, async ({ ack, body, respond }) => {
    await ack();
    // Read defensively: a signed payload Slack would never send (no user, actions that are not
    // a list of objects; found by the fuzz, test/fuzz) is ignored rather than thrown on.
    const channel = stringField(body.channel, 'id') ?? stringField(body.container, 'channel_id');
    const ts = stringField(body.message, 'ts') ?? stringField(body.container, 'message_ts');
    const userId = stringField(body.user, 'id');
    if (!channel || !ts || !userId || !Array.isArray(body.actions)) {
      logger.debug('slack button outside a channel message ignored');
      return;
    }
    for (const [i, action] of body.actions.entries()) {
      if (typeof action !== 'object' || action === null || typeof action.action_id !== 'string')
        continue;
      const key =
        stringField(body, 'trigger_id') || `${channel}/${ts}/${stringField(action, 'action_ts')}`;
      const value = 'value' in action && typeof action.value === 'string' ? action.value : '';
      if (hasNul(key, userId, channel, ts, action.action_id, value)) {
        logger.warn('slack button with a NUL in an id: dropped');
        continue;
      }
      try {
        const reply = await inbound.action({
          deliveryKey: `slack:act:${key}${i > 0 ? `#${i}` : ''}`,
          user: slackUser(userId),
          channel: slackChannel(channel),
          message: slackMessage(channel, ts),
          action: action.action_id,
          value,
        });
        if (reply) await answer(respond, { ...reply, visibility: 'private' }, logger);
      } catch (error) {
        await apologise(respond, error, logger);
      }
    }
  });

  app.event('message', async ({ event, body }) => {
    const message = toInboundMessage(event as RawMessage, body.event_id, botUserId);
    if (!message) return;
    await inbound
      .message(message)
      .catch((error: unknown) =>
        logger.error({ err: error, deliveryKey: message.deliveryKey }, 'slack message not relayed'),
      );
  });
}

function stringField(record: unknown, key: string): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const value = (record as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}
