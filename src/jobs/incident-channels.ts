import { eq } from 'drizzle-orm';
import { isChatFailure } from '../chat/errors.js';
import type { ChatPort } from '../chat/port.js';
import { type ChannelRef, type ChatPlatform, type UserRef, userRef } from '../chat/refs.js';
import type { Database } from '../db/client.js';
import { incidentChannels } from '../db/schema/incidents.js';
import type {
  IncidentChannel,
  IncidentMember,
  IncidentView,
} from '../domain/incidents/load-incident.js';
import { suffixedName } from '../domain/incidents/names.js';
import { loadTimeline } from '../domain/incidents/render-incident.js';

const NAME_ATTEMPTS = 20;

/** Each member's account on each platform (the shell's by handle). */
export function memberAccounts(
  members: readonly IncidentMember[],
): Map<ChatPlatform, Map<number, UserRef>> {
  const byPlatform = new Map<ChatPlatform, Map<number, UserRef>>([
    ['shell', new Map()],
    ['slack', new Map()],
    ['discord', new Map()],
  ]);
  for (const member of members) {
    byPlatform.get('shell')?.set(member.id, userRef('shell', member.handle));
    if (member.slack) byPlatform.get('slack')?.set(member.id, userRef('slack', member.slack));
    if (member.discord)
      byPlatform.get('discord')?.set(member.id, userRef('discord', member.discord));
  }
  return byPlatform;
}

/**
 * Creates an incident's channel, taking the next free name when one is taken. The name is
 * recorded before each attempt, so after a crash the channel is found again by that name
 * rather than made twice.
 */
export async function createIncidentChannel(
  db: Database,
  view: IncidentView,
  row: IncidentChannel,
  port: ChatPort,
  isPrivate: boolean,
): Promise<ChannelRef> {
  const adopt = async (channel: ChannelRef, name: string) => {
    // A twin made later starts from the card: earlier entries are not replayed into it.
    const announced =
      row.role === 'twin' && view.incident.revision > 1
        ? ((await loadTimeline(db, view.incident.id)).at(-1)?.id ?? 0)
        : 0;
    await db
      .update(incidentChannels)
      .set({ channel, name, announced })
      .where(eq(incidentChannels.id, row.id));
    Object.assign(row, { channel, name, announced });
    return channel;
  };
  if (row.createAttempted && port.findChannel) {
    const found = await port.findChannel(row.name);
    if (found) return adopt(found, row.name);
  }
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const name = suffixedName(view.incident.channelName, attempt);
    await db
      .update(incidentChannels)
      .set({ name, createAttempted: true })
      .where(eq(incidentChannels.id, row.id));
    try {
      const channel = await port.createChannel({
        name,
        private: isPrivate,
        topic: `${view.incident.ref} · ${view.incident.title}`,
      });
      return adopt(channel, name);
    } catch (err) {
      if (!isChatFailure(err, 'name_taken')) throw err;
    }
  }
  throw new Error(
    `no free channel name for ${view.incident.channelName} after ${NAME_ATTEMPTS} tries`,
  );
}

/** A channel row as the provisioner reports it. */
export function describeChannel(row: IncidentChannel): {
  platform: string;
  role: 'primary' | 'twin';
  channel: ChannelRef | null;
} {
  return {
    platform: row.platform,
    role: row.role,
    channel: (row.channel as ChannelRef | null) ?? null,
  };
}
