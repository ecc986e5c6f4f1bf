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
  const inThread = said.thread_ts !== undefined && said.thread_ts !== said.ts;
  return {
    deliveryKey: `slack:evt:${eventId}`,
    user: slackUser(said.user),
    channel: slackChannel(event.channel),
    message: slackMessage(event.channel, said.ts),
    ...(inThread && said.thread_ts ? { thread: slackMessage(event.channel, said.thread_ts) } : {}),
    text: said.text ?? '',
    ...(edited ? { edited: true } : {}),
  };
}

/** Sends the core's reply through the response_url (never a stack trace, never a throw). */
async function answer(respond: RespondFn, reply: CommandReply, logger: Logger): Promise<void> {
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
    try {
      const reply = await inbound.command({
        deliveryKey: `slack:cmd:${command.trigger_id}`,
        user: slackUser(command.user_id),
        channel: slackChannel(command.channel_id),
        text: `${command.command} ${command.text}`.trim(),
        userName: command.user_name,
      });
      if (reply) await answer(respond, reply, logger);
    } catch (error) {
      await apologise(respond, error, logger);
    }
  });

  app.action<BlockAction>({ type: 'block_actions' }, async ({ ack, body, respond }) => {
    await ack();
    const channel = body.channel?.id ?? stringField(body.container, 'channel_id');
    const ts = body.message?.ts ?? stringField(body.container, 'message_ts');
    if (!channel || !ts) {
      logger.debug('slack button outside a channel message ignored');
      return;
    }
    for (const [i, action] of body.actions.entries()) {
      const key = body.trigger_id || `${channel}/${ts}/${action.action_ts}`;
      try {
        const reply = await inbound.action({
          deliveryKey: `slack:act:${key}${i > 0 ? `#${i}` : ''}`,
          user: slackUser(body.user.id),
          channel: slackChannel(channel),
          message: slackMessage(channel, ts),
          action: action.action_id,
          value: 'value' in action && typeof action.value === 'string' ? action.value : '',
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

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}
