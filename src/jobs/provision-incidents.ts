import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { isChatFailure } from '../chat/errors.js';
import type { ChatHub } from '../chat/hub.js';
import type { ChannelRef, ChatPlatform, MessageRef, UserRef } from '../chat/refs.js';
import type { Database } from '../db/client.js';
import { incidentChannels, incidents } from '../db/schema/incidents.js';
import {
  type IncidentChannel,
  type IncidentView,
  loadIncidentView,
} from '../domain/incidents/load-incident.js';
import {
  announcement,
  incidentCard,
  incidentReport,
  loadTimeline,
} from '../domain/incidents/render-incident.js';
import type { Logger } from '../log.js';
import { mayDeliver, needsPrivateChannel } from '../tlp/rules.js';
import { createIncidentChannel, describeChannel, memberAccounts } from './incident-channels.js';

export interface ProvisionOutcome {
  state: 'ready' | 'pending' | 'failed' | 'busy';
  /** Why not ready, in words for the people in the incident. */
  error?: string;
  channels: { platform: string; role: 'primary' | 'twin'; channel: ChannelRef | null }[];
}

/**
 * How long a process holds an incident it is provisioning. A run takes well under a second
 * unless the platform makes it wait (429s); a process that died mid-run holds it this long, so
 * the incident resumes within this plus one resume interval (RESUME_EVERY_MS) after a crash.
 */
export const DEFAULT_LEASE_MS = 30_000;
/** How often each process looks for incidents whose channels are behind. */
export const RESUME_EVERY_MS = 10_000;

export interface ProvisionerOptions {
  db: Database;
  chat: ChatHub;
  logger: Logger;
  /** How long one process may hold an incident before another takes over (it died). */
  leaseMs?: number;
}

/**
 * Brings an incident's channels to what its row says: a channel on each platform its members
 * live on (created, or found again by name after a crash), everyone invited, the card posted,
 * pinned and current, each timeline entry announced once, and once closed, the report posted and
 * the channel archived. Every step is recorded as it is done, so a run cut short resumes where it
 * stopped. A lease in the row keeps two processes off one incident.
 */
export class IncidentProvisioner {
  private readonly running = new Map<number, Promise<ProvisionOutcome>>();
  private readonly again = new Map<number, Promise<ProvisionOutcome>>();

  constructor(private readonly options: ProvisionerOptions) {}

  /** Syncs now; a call while a sync of the same incident runs waits for one more pass after it. */
  sync(incidentId: number): Promise<ProvisionOutcome> {
    const current = this.running.get(incidentId);
    if (current) {
      let next = this.again.get(incidentId);
      if (!next) {
        next = current.then(() => {
          this.again.delete(incidentId);
          return this.sync(incidentId);
        });
        this.again.set(incidentId, next);
      }
      return next;
    }
    const run = this.run(incidentId).finally(() => this.running.delete(incidentId));
    this.running.set(incidentId, run);
    return run;
  }

  /** Resumes every incident whose channels are behind and whose lease is free (start-up, timer). */
  async resumePending(): Promise<number> {
    const rows = await this.options.db
      .select({ id: incidents.id })
      .from(incidents)
      .where(
        and(
          inArray(incidents.provision, ['pending', 'failed']),
          or(isNull(incidents.provisionLease), lt(incidents.provisionLease, sql`now()`)),
        ),
      );
    for (const row of rows) await this.sync(row.id);
    return rows.length;
  }

  private async run(incidentId: number): Promise<ProvisionOutcome> {
    const { db } = this.options;
    const leaseMs = this.options.leaseMs ?? DEFAULT_LEASE_MS;
    const [claimed] = await db
      .update(incidents)
      .set({ provisionLease: sql`now() + ${`${leaseMs} milliseconds`}::interval` })
      .where(
        and(
          eq(incidents.id, incidentId),
          or(isNull(incidents.provisionLease), lt(incidents.provisionLease, sql`now()`)),
        ),
      )
      .returning();
    if (!claimed) return { state: 'busy', channels: await this.channelsOf(incidentId) };
    let incident = claimed;
    try {
      for (;;) {
        const view = await loadIncidentView(db, incident);
        const channels = await this.syncChannels(view);
        // Ready: release the lease in the same statement. Behind (a change landed meanwhile):
        // keep the lease and go round again.
        const ready = sql`${incidents.revision} = ${incident.revision}`;
        const [after] = await db
          .update(incidents)
          .set({
            syncedRevision: incident.revision,
            provision: sql`case when ${ready} then 'ready' else 'pending' end`,
            provisionLease: sql`case when ${ready} then null else ${incidents.provisionLease} end`,
            provisionError: null,
          })
          .where(eq(incidents.id, incidentId))
          .returning();
        if (!after || after.provision === 'ready') {
          return { state: 'ready', channels: channels.map(describeChannel) };
        }
        incident = after;
      }
    } catch (err) {
      const blocked = isChatFailure(err, 'missing_permission');
      const error = blocked
        ? `the workspace admin must grant ${err.needed ?? err.detail}`
        : err instanceof Error
          ? err.message
          : String(err);
      this.options.logger.warn(
        { incident: incident.ref, err: error },
        'incident provisioning stopped',
      );
      await db
        .update(incidents)
        .set({ provision: blocked ? 'failed' : 'pending', provisionError: error.slice(0, 500) })
        .where(eq(incidents.id, incidentId))
        .catch(() => {});
      await this.release(incidentId).catch(() => {});
      return {
        state: blocked ? 'failed' : 'pending',
        error,
        channels: await this.channelsOf(incidentId).catch(() => []),
      };
    }
  }

  private async release(incidentId: number): Promise<void> {
    await this.options.db
      .update(incidents)
      .set({ provisionLease: null })
      .where(eq(incidents.id, incidentId));
  }

  private async channelsOf(incidentId: number): Promise<ProvisionOutcome['channels']> {
    const rows = await this.options.db
      .select()
      .from(incidentChannels)
      .where(eq(incidentChannels.incidentId, incidentId))
      .orderBy(incidentChannels.id);
    return rows.map(describeChannel);
  }

  private async syncChannels(view: IncidentView): Promise<IncidentChannel[]> {
    const { db, chat } = this.options;
    const { incident } = view;
    const primary = incident.platform as ChatPlatform;
    const accounts = memberAccounts(view.members);
    // Each member is reached where the incident was opened when they are there, else on the
    // other running platform where they are: that platform gets a twin channel.
    const needed = new Set<ChatPlatform>([primary]);
    for (const personId of view.memberIds) {
      if (accounts.get(primary)?.has(personId)) continue;
      const elsewhere = (['slack', 'discord'] as const).find(
        (p) => p !== primary && chat.has(p) && accounts.get(p)?.has(personId),
      );
      if (elsewhere) needed.add(elsewhere);
    }
    const isPrivate = needsPrivateChannel(incident.tlp);
    const audience = { parties: view.parties.map((p) => p.code), named: view.memberIds };
    const rows = [...view.channels];
    for (const platform of needed) {
      if (view.channels.some((c) => c.platform === platform)) continue;
      if (platform !== primary) {
        const verdict = mayDeliver(
          incident.tlp,
          {
            kind: 'channel',
            registered: true,
            private: isPrivate,
            orgs: audience.parties,
            members: view.memberIds,
          },
          audience,
        );
        if (!verdict.ok) continue;
      }
      const added = await db
        .insert(incidentChannels)
        .values({
          incidentId: incident.id,
          platform,
          role: platform === primary ? 'primary' : 'twin',
          name: incident.channelName,
        })
        .onConflictDoNothing()
        .returning();
      rows.push(...added);
    }
    const refreshed = { ...view, channels: rows };
    for (const row of rows) {
      if (!chat.has(row.platform as ChatPlatform)) continue;
      await this.syncChannel(refreshed, row, accounts.get(row.platform as ChatPlatform), isPrivate);
    }
    return rows;
  }

  private async syncChannel(
    view: IncidentView,
    row: IncidentChannel,
    accounts: Map<number, UserRef> | undefined,
    isPrivate: boolean,
  ): Promise<void> {
    const { db, chat } = this.options;
    const { incident } = view;
    const set = async (values: Partial<IncidentChannel>) => {
      Object.assign(row, values);
      await db.update(incidentChannels).set(values).where(eq(incidentChannels.id, row.id));
    };
    let channel = row.channel as ChannelRef | null;
    const port = chat.get(row.platform as ChatPlatform);
    if (!channel) channel = await createIncidentChannel(db, view, row, port, isPrivate);
    if (row.archived) return;

    const toInvite = [...(accounts ?? new Map<number, UserRef>()).entries()].filter(
      ([id]) => view.memberIds.includes(id) && !row.invited.includes(id),
    );
    if (toInvite.length > 0) {
      await port.invite(
        channel,
        toInvite.map(([, ref]) => ref),
      );
      await set({ invited: [...row.invited, ...toInvite.map(([id]) => id)] });
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
}
