import { randomBytes } from 'node:crypto';
import {
  type FakeMessage,
  findMessage,
  nextId,
  nextTs,
  type SlackWorkspace,
  storeMessage,
} from './workspace.js';

/** A slash command as a user types it. */
export interface CommandInput {
  command: string;
  text?: string;
  user_id: string;
  channel_id: string;
  trigger_id?: string;
  /** Defaults to the user's handle in the workspace. */
  user_name?: string;
}

/** A button press on a message. */
export interface ActionInput {
  user_id: string;
  channel_id: string;
  message_ts: string;
  actions: { action_id: string; value?: string; block_id?: string }[];
  trigger_id?: string;
}

let triggerSeq = 0;
/** Shaped like Slack's `13345224609.738474920.8088930838d88f008e0`. */
export const newTriggerId = () =>
  `${Date.now()}.${++triggerSeq}.${randomBytes(10).toString('hex')}`;

function channelName(ws: SlackWorkspace, id: string): string {
  const channel = ws.channels.get(id);
  if (!channel) return 'unknown';
  if (channel.is_im) return 'directmessage';
  return channel.is_private ? 'privategroup' : channel.name;
}

/** The form fields Slack posts for a slash command. */
export function commandFields(
  ws: SlackWorkspace,
  input: CommandInput,
  responseUrl: string,
  triggerId: string,
): Record<string, string> {
  return {
    token: 'verification-token-unused',
    team_id: ws.team.id,
    team_domain: ws.team.domain,
    channel_id: input.channel_id,
    channel_name: channelName(ws, input.channel_id),
    user_id: input.user_id,
    user_name: input.user_name ?? ws.users.get(input.user_id)?.name ?? input.user_id,
    command: input.command,
    text: input.text ?? '',
    api_app_id: ws.bot.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId,
  };
}

/** The `payload` JSON Slack posts for a `block_actions` interaction. */
export function actionPayload(
  ws: SlackWorkspace,
  input: ActionInput,
  responseUrl: string,
  triggerId: string,
): Record<string, unknown> {
  const user = ws.users.get(input.user_id);
  const message = findMessage(ws, input.channel_id, input.message_ts);
  const actionTs = nextTs();
  return {
    type: 'block_actions',
    user: {
      id: input.user_id,
      username: user?.name ?? input.user_id,
      name: user?.name ?? input.user_id,
      team_id: ws.team.id,
    },
    api_app_id: ws.bot.appId,
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: input.message_ts,
      channel_id: input.channel_id,
      is_ephemeral: false,
    },
    trigger_id: triggerId,
    team: { id: ws.team.id, domain: ws.team.domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel_id, name: channelName(ws, input.channel_id) },
    message: {
      type: 'message',
      ts: input.message_ts,
      text: message?.text ?? '',
      user: message?.user,
      ...(message?.bot_id ? { bot_id: message.bot_id } : {}),
      ...(message?.blocks ? { blocks: message.blocks } : {}),
    },
    state: { values: {} },
    response_url: responseUrl,
    actions: input.actions.map((a) => ({
      type: 'button',
      action_id: a.action_id,
      block_id: a.block_id ?? 'actions',
      value: a.value ?? '',
      text: { type: 'plain_text', text: a.action_id, emoji: true },
      action_ts: actionTs,
    })),
  };
}

/** The Events API envelope around one event. */
export function eventEnvelope(
  ws: SlackWorkspace,
  event: Record<string, unknown>,
  eventId: string,
): Record<string, unknown> {
  const eventTs = String(event.event_ts ?? event.ts ?? nextTs());
  return {
    token: 'verification-token-unused',
    team_id: ws.team.id,
    context_team_id: ws.team.id,
    api_app_id: ws.bot.appId,
    event: { ...event, event_ts: eventTs },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authed_users: [ws.bot.userId],
    authorizations: [
      { team_id: ws.team.id, user_id: ws.bot.userId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${eventId}`,
  };
}

export const newEventId = () => nextId('Ev');

function channelType(ws: SlackWorkspace, channel: string): string {
  const c = ws.channels.get(channel);
  if (c?.is_im) return 'im';
  if (c?.is_mpim) return 'mpim';
  return c?.is_private ? 'group' : 'channel';
}

/** A person posts in a channel (or a thread): stored, and returned as Slack's `message` event. */
export function userMessageEvent(
  ws: SlackWorkspace,
  channel: string,
  user: string,
  text: string,
  options: { threadTs?: string } = {},
): Record<string, unknown> {
  const message: FakeMessage = {
    ts: nextTs(),
    text,
    user,
    ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
  };
  storeMessage(ws, channel, message);
  return {
    type: 'message',
    channel,
    user,
    text,
    ts: message.ts,
    team: ws.team.id,
    channel_type: channelType(ws, channel),
    ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
  };
}

/** A person edits their message: the stored text changes; Slack sends `message_changed`. */
export function userEditEvent(
  ws: SlackWorkspace,
  channel: string,
  ts: string,
  text: string,
): Record<string, unknown> {
  const message = findMessage(ws, channel, ts);
  if (!message) throw new Error(`no message ${ts} in ${channel}`);
  const previous = { type: 'message', user: message.user, text: message.text, ts };
  message.text = text;
  message.edited = { user: message.user, ts: nextTs() };
  return {
    type: 'message',
    subtype: 'message_changed',
    hidden: true,
    channel,
    ts: message.edited.ts,
    channel_type: channelType(ws, channel),
    message: {
      type: 'message',
      user: message.user,
      text,
      ts,
      edited: message.edited,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    previous_message: previous,
  };
}
