import { eq, Param, sql } from 'drizzle-orm';
import { isChatFailure } from '../chat/errors.js';
import type { ChatPort } from '../chat/port.js';
import {
  type ChannelRef,
  type ChatPlatform,
  type MessageRef,
  type UserRef,
  userRef,
} from '../chat/refs.js';
import type { Database } from '../db/client.js';
import { incidentChannels } from '../db/schema/incidents.js';
import type {
  IncidentChannel,
  IncidentMember,
  IncidentView,
} from '../domain/incidents/load-incident.js';
import { suffixedName } from '../domain/incidents/names.js';
import {
  announcement,
  incidentCard,
  incidentReport,
  loadTimeline,
} from '../domain/incidents/render-incident.js';

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

/** Columns of a channel row the provisioner records as it goes. */
export type ChannelChange = Partial<
  Omit<IncidentChannel, 'id' | 'incidentId' | 'platform' | 'role'>
>;

type ChannelUpdate = ReturnType<typeof prepareChannelUpdate>;

function prepareChannelUpdate(db: Database, columns: readonly (keyof ChannelChange)[]) {
  // Each value goes through its column's encoder (arrays, timestamps), as an unprepared update does.
  const values = Object.fromEntries(
    columns.map((column) => [
      column,
      sql`${new Param(sql.placeholder(column), incidentChannels[column])}`,
    ]),
  );
  return db
    .update(incidentChannels)
    .set(values)
    .where(eq(incidentChannels.id, sql.placeholder('id')))
    .prepare(`incident_channel_${columns.join('_')}`);
}

/**
 * Records a channel's progress step by step. A channel row is written several times on every
 * command's path, in a handful of shapes (which columns change): each shape is a statement
 * built once per database, not per call.
 */
export class ChannelRecorder {
  private readonly updates = new Map<string, ChannelUpdate>();

  constructor(readonly db: Database) {}

  /** Applies `values` to the row in memory and in the database. */
  async record(row: IncidentChannel, values: ChannelChange): Promise<void> {
    Object.assign(row, values);
    const columns = (Object.keys(values) as (keyof ChannelChange)[])
      .filter((column) => values[column] !== undefined)
      .sort();
    const shape = columns.join(',');
    let update = this.updates.get(shape);
    if (!update) {
      update = prepareChannelUpdate(this.db, columns);
      this.updates.set(shape, update);
    }
    await update.execute({ ...values, id: row.id });
  }
}

/**
 * Creates an incident's channel, taking the next free name when one is taken, and returns what
 * to record for it; the caller records that, with the first invitations where it can. Each name
 * is recorded before it is tried, so after a crash the channel is found again by that name
 * rather than made twice. `fresh`: the row was written by the open with its name and attempt
 * recorded, and nobody has tried yet, so there is nothing to find and nothing to record first.
 */
export async function createIncidentChannel(
  channels: ChannelRecorder,
  view: IncidentView,
  row: IncidentChannel,
  port: ChatPort,
  options: { isPrivate: boolean; fresh: boolean },
): Promise<ChannelChange & { channel: ChannelRef }> {
  const made = async (channel: ChannelRef, name: string) => {
    // A twin made later starts from the card: earlier entries are not replayed into it.
    const announced =
      row.role === 'twin' && view.incident.revision > 1
        ? ((await loadTimeline(channels.db, view.incident.id)).at(-1)?.id ?? 0)
        : 0;
    return { channel, name, announced };
  };
  if (row.createAttempted && !options.fresh && port.findChannel) {
    const found = await port.findChannel(row.name);
    if (found) return made(found, row.name);
  }
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const name = suffixedName(view.incident.channelName, attempt);
    if (!(options.fresh && attempt === 0 && row.name === name)) {
      await channels.record(row, { name, createAttempted: true });
    }
    try {
      const channel = await port.createChannel({
        name,
        private: options.isPrivate,
        topic: `${view.incident.ref} · ${view.incident.title}`,
      });
      return made(channel, name);
    } catch (err) {
      if (!isChatFailure(err, 'name_taken')) throw err;
    }
  }
  throw new Error(
    `no free channel name for ${view.incident.channelName} after ${NAME_ATTEMPTS} tries`,
  );
}

/**
 * Brings one of an incident's channels to what the view says: made (or found again by name),
 * everyone invited, the card posted, pinned and current, each timeline entry announced once,
 * and once closed, the report posted and the channel archived. Each step is recorded as it is
 * done, so a pass cut short resumes where it stopped.
 */
export async function syncIncidentChannel(
  channels: ChannelRecorder,
  port: ChatPort,
  view: IncidentView,
  row: IncidentChannel,
  options: { accounts: Map<number, UserRef> | undefined; isPrivate: boolean; fresh: boolean },
): Promise<void> {
  const { db } = channels;
  const { incident } = view;
  const set = (values: ChannelChange) => channels.record(row, values);
  // A channel made (or found by name) here is recorded together with its first invitations. A
  // crash in between is safe: the name was recorded before creating, so the next pass finds
  // the channel again by name and invites again, which platforms take as a no-op. A platform
  // that cannot find channels by name gets the channel recorded at once.
  let made: ChannelChange | undefined;
  let channel = row.channel as ChannelRef | null;
  if (!channel) {
    const created = await createIncidentChannel(channels, view, row, port, options);
    channel = created.channel;
    if (port.findChannel) made = created;
    else await set(created);
  }
  if (row.archived) return;

  const toInvite = [...(options.accounts ?? new Map<number, UserRef>()).entries()].filter(
    ([id]) => view.memberIds.includes(id) && !row.invited.includes(id),
  );
  if (toInvite.length > 0) {
    try {
      await port.invite(
        channel,
        toInvite.map(([, ref]) => ref),
      );
    } catch (err) {
      if (made) await set(made);
      throw err;
    }
    await set({ ...made, invited: [...row.invited, ...toInvite.map(([id]) => id)] });
  } else if (made) {
    await set(made);
  }

  let card = row.card as MessageRef | null;
  if (!card) {
    // Posting and pinning are recorded together: a crash between them posts the card again,
    // the same window a crash between posting and recording it would leave.
    card = await port.post(channel, await incidentCard(db, view));
    await port.pin?.(card);
    await set({ card, cardRevision: incident.revision, pinned: true });
  } else if (row.cardRevision < incident.revision) {
    await port.update(card, await incidentCard(db, view));
    await set({ cardRevision: incident.revision });
  }
  if (!row.pinned) {
    await port.pin?.(card);
    await set({ pinned: true });
  }

  // Revision 1 is the incident as opened: its timeline holds only the opening, which the card shows.
  if (incident.revision > 1) {
    for (const line of await loadTimeline(db, incident.id, { after: row.announced })) {
      if (line.kind !== 'opened') await port.post(channel, announcement(view, line));
      await set({ announced: line.id });
    }
  }

  if (incident.status === 'closed') {
    if (!row.reported) {
      await port.post(channel, {
        tlp: incident.tlp,
        title: `${incident.ref} timeline report`,
        body: await incidentReport(db, view),
      });
      await set({ reported: true });
    }
    await port.archive(channel);
    await set({ archived: true });
  }
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
