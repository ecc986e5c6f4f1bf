import {
  type ChannelRef,
  channelRef,
  localPart,
  type MessageRef,
  messageRef,
  platformOf,
  type UserRef,
  userRef,
} from '../../src/chat/refs.js';

/**
 * Discord references: users `discord:<userId>`, channels `discord:<channelId>`, messages
 * `discord:<channelId>/<messageId>`, where the channel is the one that holds the message (a
 * thread's own id for a message in a thread). Ids are snowflakes: decimal digits only.
 */

const SNOWFLAKE = /^\d{1,20}$/;

/** `discord:<userId>` */
export const discordUser = (id: string): UserRef => userRef('discord', id);
/** `discord:<channelId>` */
export const discordChannel = (id: string): ChannelRef => channelRef('discord', id);
/** `discord:<channelId>/<messageId>`, the channel being the one that holds the message. */
export const discordMessage = (channelId: string, messageId: string): MessageRef =>
  messageRef('discord', `${channelId}/${messageId}`);

function ours(ref: string, kind: string): string {
  if (platformOf(ref as UserRef) !== 'discord') throw new Error(`not a Discord ${kind}: ${ref}`);
  return localPart(ref as UserRef);
}

function snowflake(id: string | undefined, ref: string, kind: string): string {
  if (!id || !SNOWFLAKE.test(id)) throw new Error(`not a Discord ${kind}: ${ref}`);
  return id;
}

/** The user id of `discord:<userId>`. */
export const userIdOf = (ref: UserRef): string => snowflake(ours(ref, 'user'), ref, 'user');

/** The channel id of `discord:<channelId>`. */
export const channelIdOf = (ref: ChannelRef): string =>
  snowflake(ours(ref, 'channel'), ref, 'channel');

/** Both ids of `discord:<channelId>/<messageId>`. */
export function messageIdsOf(ref: MessageRef): { channelId: string; messageId: string } {
  const [channelId, messageId, extra] = ours(ref, 'message').split('/');
  if (extra !== undefined) throw new Error(`not a Discord message: ${ref}`);
  return {
    channelId: snowflake(channelId, ref, 'message'),
    messageId: snowflake(messageId, ref, 'message'),
  };
}
