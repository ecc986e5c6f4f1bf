import { Routes } from 'discord.js';
import { fitChannelName as fitName } from '../../src/chat/channel-names.js';
import type { RestClient } from './rest.js';

/**
 * Channel facts the adapter needs: Discord's name rules, the permission bits it sets, the
 * overwrites that lock a channel, and whether a channel is a thread or a DM (from discord.js's
 * gateway-fed cache, else one REST lookup, remembered).
 */

/** Permission bits (Discord's numbers). All below 2^53, so plain JSON numbers carry them. */
export const PERMISSIONS = {
  addReactions: 1n << 6n,
  viewChannel: 1n << 10n,
  sendMessages: 1n << 11n,
  embedLinks: 1n << 14n,
  readMessageHistory: 1n << 16n,
  createPublicThreads: 1n << 35n,
  createPrivateThreads: 1n << 36n,
  sendMessagesInThreads: 1n << 38n,
} as const;

const P = PERMISSIONS;
/** What an invited member may do in a channel. */
export const MEMBER_ALLOW = P.viewChannel | P.sendMessages | P.readMessageHistory;
/** What the bot grants itself in the channels it makes (it must hold these in the guild). */
export const BOT_ALLOW =
  MEMBER_ALLOW | P.embedLinks | P.createPublicThreads | P.sendMessagesInThreads;
/** What archiving takes away from everyone but the bot: the channel stays readable. */
export const LOCKED =
  P.sendMessages |
  P.sendMessagesInThreads |
  P.createPublicThreads |
  P.createPrivateThreads |
  P.addReactions;

/** Channel types the adapter tells apart (Discord's numbers). */
export const CHANNEL_TYPE = { text: 0, dm: 1 } as const;
const THREAD_TYPES = new Set([10, 11, 12]);

/** A permission overwrite as the adapter sends it. */
export interface Overwrite {
  id: string;
  /** 0 role, 1 member. */
  type: 0 | 1;
  allow: number;
  deny: number;
}

/** A permission overwrite as the API takes it; the description types the bitfields as integers. */
export const overwrite = (id: string, type: 0 | 1, allow: bigint, deny: bigint): Overwrite => ({
  id,
  type,
  allow: Number(allow),
  deny: Number(deny),
});

/**
 * A name Discord accepts: at most 100 characters (src/chat/channel-names.ts). Discord would
 * lowercase and dash it anyway; doing it here lets the name check and `findChannel` compare like
 * with like.
 */
export const fitChannelName = (name: string) => fitName(name, 100);

/** Overwrites as Discord returns them (bitfields as decimal strings). */
export interface RawOverwrite {
  id: string;
  type: number;
  allow: string;
  deny: string;
}

/**
 * The overwrites of a locked channel: everyone who had an overwrite (and @everyone) keeps read
 * access and loses the right to write; the bot keeps writing, so the closing report still posts.
 */
export function lockedOverwrites(
  current: readonly RawOverwrite[],
  guildId: string,
  botUserId: string,
): Overwrite[] {
  const result: Overwrite[] = [];
  const seen = new Set<string>();
  for (const o of current) {
    if (o.id === botUserId) continue;
    const type = o.type === 1 ? 1 : 0;
    let allow = BigInt(o.allow) & ~LOCKED;
    // Invited members keep reading; @everyone keeps whatever visibility it had.
    if (type === 1) allow |= P.viewChannel | P.readMessageHistory;
    result.push(overwrite(o.id, type, allow, BigInt(o.deny) | LOCKED));
    seen.add(o.id);
  }
  if (!seen.has(guildId)) result.push(overwrite(guildId, 0, 0n, LOCKED));
  result.push(overwrite(botUserId, 1, BOT_ALLOW, 0n));
  return result;
}

/** What the adapter needs to know of a channel: its type and, for threads, the parent. */
export interface ChannelInfo {
  type: number;
  parentId: string | null;
}

/** Public, private and announcement threads. */
export const isThread = (info: ChannelInfo | undefined) =>
  info !== undefined && THREAD_TYPES.has(info.type);

/** Looks channels up: the gateway cache first (`cached`), then GET /channels/{id}, remembered. */
export class ChannelDirectory {
  private readonly remembered = new Map<string, ChannelInfo>();

  constructor(
    private readonly rest: RestClient,
    private readonly cached: (id: string) => ChannelInfo | undefined,
  ) {}

  remember(id: string, info: ChannelInfo): void {
    this.remembered.set(id, info);
  }

  /** What is known without asking Discord. */
  known(id: string): ChannelInfo | undefined {
    return this.remembered.get(id) ?? this.cached(id);
  }

  /** Undefined when Discord does not know the channel or the bot cannot see it. */
  async lookup(id: string): Promise<ChannelInfo | undefined> {
    const hit = this.known(id);
    if (hit) return hit;
    try {
      const raw = (await this.rest.get(Routes.channel(id))) as {
        type: number;
        parent_id?: string | null;
      };
      const info = { type: raw.type, parentId: raw.parent_id ?? null };
      this.remembered.set(id, info);
      return info;
    } catch {
      return undefined;
    }
  }
}
