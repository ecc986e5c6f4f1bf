import {
  type ChannelRef,
  channelRef,
  localPart,
  type MessageRef,
  messageRef,
  type UserRef,
  userRef,
} from '../../src/chat/refs.js';

/** Shell users are directory handles: `shell:kadri`. */
export const shellUser = (handle: string): UserRef =>
  userRef('shell', handle.replace(/^@/, '').toLowerCase());
/** Shell channels keep their `#`: `shell:#general`; direct messages are `shell:@kadri`. */
export const shellChannel = (name: string): ChannelRef =>
  channelRef('shell', `#${name.replace(/^#/, '')}`);
export const shellDirect = (user: UserRef): ChannelRef =>
  channelRef('shell', `@${localPart(user)}`);
export const shellMessage = (channel: ChannelRef, seq: number): MessageRef =>
  messageRef('shell', `${localPart(channel)}/${seq}`);

/** `#general` or `@kadri`, as the shell shows a channel. */
export const channelName = (channel: ChannelRef) => localPart(channel);
export const userName = (user: UserRef) => `@${localPart(user)}`;

/** The channel part of a shell message reference. */
export function channelOfMessage(message: MessageRef): ChannelRef {
  const local = localPart(message);
  return channelRef('shell', local.slice(0, local.lastIndexOf('/')));
}
