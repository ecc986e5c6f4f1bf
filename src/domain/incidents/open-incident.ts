import { and, eq, inArray, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { type TlpLevel, tlpLabel } from '../../chat/message.js';
import { type ChatPlatform, platformOf, type UserRef } from '../../chat/refs.js';
import { contacts } from '../../db/schema/contacts.js';
import {
  incidentChannels,
  incidentMembers,
  incidentParties,
  incidents,
  incidentTimeline,
  type Severity,
} from '../../db/schema/incidents.js';
import { organisations } from '../../db/schema/organisations.js';
import { people, platformIdentities } from '../../db/schema/people.js';
import { columnPlaceholders, reusableStatement } from '../../db/statement.js';
import { forbidden, tlpViolation, usageError } from '../../errors.js';
import { type ItemRef, scheduleItem } from '../../jobs/items.js';
import { provisionLeaseFromNow } from '../../jobs/provision-incidents.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { unknownOrganisation } from '../directory/resolve.js';
import { nextRef } from '../refs.js';
import {
  type Incident,
  type IncidentChannel,
  type IncidentMember,
  type IncidentView,
  memberColumns,
} from './load-incident.js';
import { incidentChannelName } from './names.js';
import { STATUS_INTERVAL_MS, STATUS_REMINDER } from './severity.js';

export interface OpenIncidentInput {
  title: string;
  severity: Severity;
  tlp: TlpLevel;
  /** Codes of the organisations to bring in, besides the opener's own. */
  orgs: readonly string[];
  /** Who opened it, on which platform: the primary channel lives there. */
  caller: UserRef;
}

export interface OpenedIncident {
  id: number;
  ref: string;
  /** Handles of the contacts brought in, `@kadri (EST)`. */
  invited: string[];
  /** Named organisations with no primary `incident-response` contact. */
  withoutContact: string[];
  items: ItemRef[];
  /**
   * The incident as committed, with its primary channel's row (name recorded, not yet created)
   * and the provisioning lease taken: what the provisioner's first pass needs, without a reload.
   */
  view: IncidentView;
}

export const INCIDENT_CAPABILITY = 'incident-response';

const namedOrg = alias(organisations, 'named_org');

// The statements every open sends, built once (see reusableStatement).
const insertIncident = reusableStatement<{ id: number; lease: number }>((on) =>
  on
    .insert(incidents)
    .values({
      ...(columnPlaceholders(incidents, [
        'id',
        'provisionLease',
        // Null in a new incident, as the columns' defaults are.
        'summary',
        'provisionError',
        'closedAt',
      ]) as unknown as Omit<typeof incidents.$inferInsert, 'provisionLease'>),
      provisionLease: provisionLeaseFromNow(),
    })
    .returning({
      id: incidents.id,
      lease: sql<number>`(extract(epoch from ${incidents.provisionLease}) * 1000)::float8`,
    }),
);
const insertOpened = reusableStatement((on) =>
  on.insert(incidentTimeline).values({
    incidentId: sql.placeholder('incidentId'),
    at: sql.placeholder('at'),
    actorId: sql.placeholder('actorId'),
    kind: 'opened',
    text: sql.placeholder('text'),
  }),
);
const insertPrimaryChannel = reusableStatement<{ id: number }>((on) =>
  on
    .insert(incidentChannels)
    .values(
      columnPlaceholders(incidentChannels, [
        'id',
        'channel',
        'card',
      ]) as unknown as typeof incidentChannels.$inferInsert,
    )
    .returning({ id: incidentChannels.id }),
);

/**
 * Records a new incident: the row, its parties, its members (the opener and each named
 * organisation's primary incident-response contact), the first timeline entry, the audit row,
 * the first status reminder and the primary channel's row, in one transaction. The row is
 * written with the provisioning lease taken, so no other pass starts on it before the caller
 * hands `view` to the provisioner, which makes the channels; should the caller die first, the
 * lease runs out and the incident is resumed like any other.
 */
export async function openIncident({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: OpenIncidentInput;
}): Promise<OpenedIncident> {
  const title = input.title.trim().replace(/\s+/g, ' ');
  if (title.length === 0 || title.length > 150) {
    throw usageError('the title must be 1 to 150 characters');
  }
  const opener = ctx.speaker.person;
  if (!opener) {
    throw forbidden('incidents are opened by people in the directory; ask an admin to add you');
  }
  const platform: ChatPlatform = platformOf(input.caller);
  const codes = [...new Set(input.orgs.map((c) => c.toUpperCase()))];

  return ctx.db.transaction(async (tx) => {
    // The named organisations with their primary contacts, and where the opener can be reached.
    const [found, identities] = await Promise.all([
      codes.length === 0
        ? []
        : tx
            .select({
              org: { id: namedOrg.id, code: namedOrg.code },
              primary: memberColumns,
            })
            .from(namedOrg)
            .leftJoin(
              contacts,
              and(
                eq(contacts.orgId, namedOrg.id),
                eq(contacts.capability, INCIDENT_CAPABILITY),
                eq(contacts.rank, 0),
              ),
            )
            .leftJoin(people, eq(people.id, contacts.personId))
            .leftJoin(organisations, eq(organisations.id, people.orgId))
            .where(inArray(namedOrg.code, codes)),
      tx
        .select({ platform: platformIdentities.platform, id: platformIdentities.externalId })
        .from(platformIdentities)
        .where(eq(platformIdentities.personId, opener.id)),
    ]);
    const named = codes.map((code) => {
      const row = found.find((r) => r.org.code === code);
      if (!row) throw unknownOrganisation(code);
      return row;
    });
    const parties = new Map<number, string>();
    if (opener.org) parties.set(opener.org.id, opener.org.code);
    for (const { org } of named) parties.set(org.id, org.code);
    if (input.tlp === 'amber+strict' && parties.size > 1) {
      throw tlpViolation(
        `${tlpLabel(input.tlp)} never goes to a channel shared by several organisations (${[...parties.values()].join(', ')}); open it at amber, or one incident per organisation`,
      );
    }

    // A primary's columns are all null when the organisation has none (the left joins).
    const primaries = named.flatMap(({ org, primary }) =>
      primary.id === null ? [] : [{ org: org.code, member: primary as IncidentMember }],
    );
    const withoutContact = named
      .filter(({ primary }) => primary.id === null)
      .map((r) => r.org.code);
    const members = new Map<number, IncidentMember>([
      [
        opener.id,
        {
          id: opener.id,
          name: opener.name,
          handle: opener.handle,
          org: opener.org?.code ?? null,
          slack: identities.find((i) => i.platform === 'slack')?.id ?? null,
          discord: identities.find((i) => i.platform === 'discord')?.id ?? null,
        },
      ],
    ]);
    for (const { member } of primaries) members.set(member.id, member);

    const year = ctx.now.getUTCFullYear();
    const ref = await nextRef(tx, 'INC', year);
    const channelName = incidentChannelName(ref, title);
    // Every column is written, so the rows held here are the rows stored, bar what the inserts
    // return: the ids and the lease, in the database's clock.
    const written = {
      ref,
      title,
      channelName,
      severity: input.severity,
      tlp: input.tlp,
      status: 'active',
      platform,
      openerId: opener.id,
      leadId: opener.id,
      summary: null,
      revision: 1,
      syncedRevision: 0,
      provision: 'pending',
      provisionError: null,
      createdAt: ctx.now,
      closedAt: null,
    } satisfies Omit<Incident, 'id' | 'provisionLease'>;
    const [inserted] = await insertIncident(tx, written);
    if (!inserted) throw new Error('insert into incidents returned nothing');
    const incident: Incident = {
      ...written,
      id: inserted.id,
      provisionLease: new Date(inserted.lease),
    };
    // The primary channel's row as the provisioner records it just before creating the channel
    // (name and attempt), so a crash after the platform made it is resumed by adopting it by name.
    const primaryChannel = {
      incidentId: incident.id,
      platform,
      role: 'primary',
      name: channelName,
      channel: null,
      createAttempted: true,
      card: null,
      cardRevision: 0,
      pinned: false,
      invited: [],
      announced: 0,
      reported: false,
      archived: false,
    } satisfies Omit<IncidentChannel, 'id'>;

    // The rest hangs off the incident's id alone: sent together, in one round trip.
    const memberIds = [opener.id, ...primaries.map((p) => p.member.id)];
    const interval = STATUS_INTERVAL_MS[input.severity];
    const [, , , , reminder, [channel]] = await Promise.all([
      tx
        .insert(incidentParties)
        .values([...parties.keys()].map((orgId) => ({ incidentId: incident.id, orgId }))),
      tx
        .insert(incidentMembers)
        .values([...members.keys()].map((personId) => ({ incidentId: incident.id, personId }))),
      insertOpened(tx, {
        incidentId: incident.id,
        at: ctx.now,
        actorId: opener.id,
        text: `"${title}" at severity ${input.severity}, ${tlpLabel(input.tlp)}`,
      }),
      recordAudit(tx, {
        actor: actorOf(ctx),
        action: 'incident.open',
        subject: `incident:${ref}`,
        detail: {
          title,
          severity: input.severity,
          tlp: input.tlp,
          parties: [...parties.values()],
          members: memberIds,
        },
      }),
      interval === null
        ? null
        : scheduleItem(tx, {
            kind: STATUS_REMINDER,
            subject: ref,
            dueAt: new Date(ctx.now.getTime() + interval),
            data: { incidentId: incident.id },
          }),
      insertPrimaryChannel(tx, primaryChannel),
    ]);
    if (!channel) throw new Error('insert into incident_channels returned nothing');
    const items: ItemRef[] = reminder ? [reminder] : [];

    // In the order a reload gives: members were added together, so by id; parties by code.
    const view: IncidentView = {
      incident,
      parties: [...parties]
        .map(([id, code]) => ({ id, code }))
        .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
      members: [...members.values()].sort((a, b) => a.id - b.id),
      memberIds: [...members.keys()].sort((a, b) => a - b),
      channels: [{ ...primaryChannel, ...channel }],
    };
    return {
      id: incident.id,
      ref,
      invited: primaries.map((p) => `@${p.member.handle} (${p.org})`),
      withoutContact,
      items,
      view,
    };
  });
}
