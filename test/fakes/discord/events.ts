import { INTENT } from './gateway.js';
import { channelJson, memberJson, messageJson } from './json.js';
import type { FakeContext } from './routes.js';
import { type FakeChannel, type FakeMessage, isThreadType } from './state.js';

/**
 * Announces a message on the gateway the way Discord does: guild messages need GUILD_MESSAGES,
 * DMs need DIRECT_MESSAGES, and without the privileged MESSAGE_CONTENT intent the text is blanked
 * unless the bot wrote it, is mentioned, or it is a DM.
 */
export function dispatchMessage(
  ctx: FakeContext,
  t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE',
  message: FakeMessage,
): void {
  const channel = ctx.state.channels.get(message.channel_id);
  const inGuild = Boolean(channel?.guild_id);
  const base = messageJson(ctx.state, message);
  const full = inGuild
    ? { ...base, member: { ...memberJson(message.author), user: undefined } }
    : base;
  const botId = ctx.state.bot.id;
  const readable =
    !inGuild || message.author.id === botId || message.content.includes(`<@${botId}>`);
  ctx.gateway.dispatch(t, undefined, (intents) => {
    if (!(intents & (inGuild ? INTENT.guildMessages : INTENT.directMessages))) return undefined;
    if (readable || intents & INTENT.messageContent) return full;
    return { ...full, content: '', embeds: [], components: [] };
  });
}

/** CHANNEL_CREATE / CHANNEL_UPDATE / THREAD_CREATE / THREAD_UPDATE, under the GUILDS intent. */
export function dispatchChannel(
  ctx: FakeContext,
  change: 'create' | 'update',
  channel: FakeChannel,
): void {
  const thread = isThreadType(channel.type);
  const t = `${thread ? 'THREAD' : 'CHANNEL'}_${change === 'create' ? 'CREATE' : 'UPDATE'}`;
  const d = {
    ...channelJson(channel),
    ...(thread && change === 'create' ? { newly_created: true } : {}),
  };
  ctx.gateway.dispatch(t, undefined, (intents) => (intents & INTENT.guilds ? d : undefined));
}
