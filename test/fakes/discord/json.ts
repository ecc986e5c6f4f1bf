import {
  type FakeChannel,
  type FakeGuildState,
  type FakeMessage,
  type FakeUser,
  isThreadType,
  PERMISSION_BITS,
} from './state.js';

/** The fake's records as Discord sends them over REST and the gateway. */

/** A guild member object. */
export function memberJson(user: FakeUser) {
  return {
    user,
    nick: null,
    roles: [],
    joined_at: new Date(0).toISOString(),
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
  };
}

/** A channel object. */
export function channelJson(channel: FakeChannel) {
  return { ...channel, nsfw: false, rate_limit_per_user: 0, flags: 0 };
}

/** A message object (with `guild_id` for guild channels). */
export function messageJson(state: FakeGuildState, message: FakeMessage) {
  const channel = state.channels.get(message.channel_id);
  return {
    ...message,
    ...(channel?.guild_id ? { guild_id: channel.guild_id } : {}),
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: [],
  };
}

/** The full guild object of GUILD_CREATE. */
export function guildCreateJson(state: FakeGuildState) {
  const all = [...state.channels.values()].filter((c) => c.guild_id === state.guild.id);
  return {
    id: state.guild.id,
    name: state.guild.name,
    icon: null,
    owner_id: state.guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: [everyoneRole(state)],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    premium_tier: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    joined_at: new Date(0).toISOString(),
    large: false,
    unavailable: false,
    member_count: state.members.size,
    members: [...state.members].flatMap((id) => {
      const user = state.users.get(id);
      return user ? [memberJson(user)] : [];
    }),
    channels: all.filter((c) => !isThreadType(c.type)).map(channelJson),
    threads: all.filter((c) => isThreadType(c.type)).map(channelJson),
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

function everyoneRole(state: FakeGuildState) {
  const base =
    PERMISSION_BITS.VIEW_CHANNEL |
    PERMISSION_BITS.SEND_MESSAGES |
    PERMISSION_BITS.READ_MESSAGE_HISTORY |
    PERMISSION_BITS.ADD_REACTIONS;
  return {
    id: state.guild.id,
    name: '@everyone',
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position: 0,
    permissions: base.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
  };
}
