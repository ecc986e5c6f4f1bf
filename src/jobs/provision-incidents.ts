import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { isChatFailure } from '../chat/errors.js';
import type { ChatHub } from '../chat/hub.js';
import type { ChannelRef, ChatPlatform } from '../chat/refs.js';
import type { Database } from '../db/client.js';
import { incidentChannels, incidents } from '../db/schema/incidents.js';
import {
  type Incident,
  type IncidentChannel,
  type IncidentView,
  loadIncidentView,
} from '../domain/incidents/load-incident.js';
import type { Logger } from '../log.js';
import { mayDeliver, needsPrivateChannel } from '../tlp/rules.js';
import {
  ChannelRecorder,
  describeChannel,
  memberAccounts,
  syncIncidentChannel,
} from './incident-channels.js';

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
 * `openIncident` takes it too, for the first pass, which the opening command runs at once.
 */
export const DEFAULT_LEASE_MS = 30_000;
/** How often each process looks for incidents whose channels are behind. */
export const RESUME_EVERY_MS = 10_000;

/** The value of `provision_lease` for a lease taken now, in the database's clock. */
export const provisionLeaseFromNow = (leaseMs = DEFAULT_LEASE_MS) =>
  sql`now() + ${`${leaseMs} milliseconds`}::interval`;

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
  private readonly channels: ChannelRecorder;
  private readonly claim: ReturnType<typeof prepareClaim>;
  private readonly synced: ReturnType<typeof prepareSynced>;

  constructor(private readonly options: ProvisionerOptions) {
    this.channels = new ChannelRecorder(options.db);
    this.claim = prepareClaim(options.db, options.leaseMs);
    this.synced = prepareSynced(options.db);
  }

  /**
   * Syncs now; a call while a sync of the same incident runs waits for one more pass after it.
   * `opened` is the view `openIncident` returned: its transaction took the lease and recorded
   * the primary channel's row, so the first pass starts from it without claiming or reloading.
   */
  sync(incidentId: number, opened?: IncidentView): Promise<ProvisionOutcome> {
    const current = this.running.get(incidentId);
    if (current) {
      // The pass after it claims and reloads as usual: a view handed over at open is dropped,
      // as another pass got there first (the open's lease ran out) and it may be stale.
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
    const run = this.run(incidentId, opened).finally(() => this.running.delete(incidentId));
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

  private async run(incidentId: number, opened?: IncidentView): Promise<ProvisionOutcome> {
    const { db } = this.options;
    let incident: Incident;
    if (opened) {
      incident = opened.incident;
    } else {
      const [claimed] = await this.claim.execute({ id: incidentId });
      if (!claimed) return { state: 'busy', channels: await this.channelsOf(incidentId) };
      incident = claimed;
    }
    try {
      let view = opened ?? (await loadIncidentView(db, incident));
      for (;;) {
        const channels = await this.syncChannels(view, { fresh: view === opened });
        // Ready: release the lease in the same statement. Behind (a change landed meanwhile):
        // keep the lease and go round again.
        const [after] = await this.synced.execute({ id: incidentId, revision: incident.revision });
        if (!after || after.provision === 'ready') {
          return { state: 'ready', channels: channels.map(describeChannel) };
        }
        incident = after;
        view = await loadIncidentView(db, incident);
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

  private async syncChannels(
    view: IncidentView,
    options: { fresh: boolean },
  ): Promise<IncidentChannel[]> {
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
      const platform = row.platform as ChatPlatform;
      await syncIncidentChannel(this.channels, chat.get(platform), refreshed, row, {
        accounts: accounts.get(platform),
        isPrivate,
        // The open's rows: recorded as just before creating, and nobody has tried yet.
        fresh: options.fresh && view.channels.includes(row),
      });
    }
    return rows;
  }
}

// Every pass starts and ends with one of these: built once per provisioner, not per call.

/** The lease on an incident, when it is free or its holder's ran out; the incident as it is. */
function prepareClaim(db: Database, leaseMs?: number) {
  return db
    .update(incidents)
    .set({ provisionLease: provisionLeaseFromNow(leaseMs) })
    .where(
      and(
        eq(incidents.id, sql.placeholder('id')),
        or(isNull(incidents.provisionLease), lt(incidents.provisionLease, sql`now()`)),
      ),
    )
    .returning()
    .prepare('incident_claim');
}

/**
 * Caught up to `revision`: ready with the lease released, unless a change landed meanwhile.
 */
function prepareSynced(db: Database) {
  const revision = sql.placeholder('revision');
  const ready = sql`${incidents.revision} = ${revision}`;
  return db
    .update(incidents)
    .set({
      syncedRevision: sql`${revision}`,
      provision: sql`case when ${ready} then 'ready' else 'pending' end`,
      provisionLease: sql`case when ${ready} then null else ${incidents.provisionLease} end`,
      provisionError: null,
    })
    .where(eq(incidents.id, sql.placeholder('id')))
    .returning()
    .prepare('incident_synced');
}
