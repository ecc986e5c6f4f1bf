import { fitChannelName as fitName } from '../../src/chat/channel-names.js';
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

/** `slack:U024BE7LH` */
export const slackUser = (id: string): UserRef => userRef('slack', id);
/** `slack:C0123ABC` (public, private and direct-message conversations alike) */
export const slackChannel = (id: string): ChannelRef => channelRef('slack', id);
/** `slack:C0123ABC/1700000000.000100`: a message is its channel and its `ts`. */
export const slackMessage = (channel: string, ts: string): MessageRef =>
  messageRef('slack', `${channel}/${ts}`);

// A reference from another platform reaching this adapter is a routing bug in the core.
function ownLocalPart(ref: UserRef | ChannelRef | MessageRef): string {
  if (platformOf(ref) !== 'slack') throw new Error(`not a Slack reference: ${ref}`);
  return localPart(ref);
}

/** The Slack id inside a user or channel reference. */
export const slackId = (ref: UserRef | ChannelRef): string => ownLocalPart(ref);

/** The channel id and `ts` inside a message reference. */
export function parseSlackMessage(ref: MessageRef): { channel: string; ts: string } {
  const local = ownLocalPart(ref);
  const slash = local.indexOf('/');
  if (slash <= 0) throw new Error(`not a Slack message reference: ${ref}`);
  return { channel: local.slice(0, slash), ts: local.slice(slash + 1) };
}

/** A name Slack accepts: at most 80 characters (src/chat/channel-names.ts). */
export const fitChannelName = (name: string) => fitName(name, 80);
