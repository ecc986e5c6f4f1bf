import { and, eq } from 'drizzle-orm';
import type { Mention } from '../../commands/values.js';
import { HANDLE_PATTERN } from '../../commands/values.js';
import { contacts } from '../../db/schema/contacts.js';
import { people, platformIdentities, type Role } from '../../db/schema/people.js';
import { conflict, usageError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { findMentioned, requireOrganisation, requirePersonById } from './resolve.js';
import type { Person } from './speaker.js';

export interface AddMemberInput {
  user: Mention;
  org: string;
  role: Role;
  name?: string;
  tz?: string;
  /** Directory handle for someone new named by a platform mention; derived when absent. */
  handle?: string;
  slack?: string;
  discord?: string;
}

export interface AddMemberResult {
  person: Person;
  created: boolean;
  changes: string[];
}

/**
 * Puts a person in an organisation with a role, creating them in the directory if the mention
 * names someone new. Moving someone who is a point of contact elsewhere is refused: their
 * contact roles would point at a stranger.
 */
export async function addMember({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: AddMemberInput;
}): Promise<AddMemberResult> {
  if (input.slack !== undefined && !/^[UW][A-Z0-9]{2,20}$/.test(input.slack)) {
    throw usageError(`slack: "${input.slack}" is not a Slack user id like U024BE7LH`);
  }
  if (input.discord !== undefined && !/^\d{5,25}$/.test(input.discord)) {
    throw usageError(`discord: "${input.discord}" is not a Discord user id (digits)`);
  }
  if (input.name !== undefined && (input.name.trim() === '' || input.name.length > 120)) {
    throw usageError('name: must be 1 to 120 characters');
  }
  return ctx.db.transaction(async (tx) => {
    const org = await requireOrganisation(tx, input.org);
    const existing = await findMentioned(tx, input.user);
    const identities: { platform: 'slack' | 'discord'; externalId: string }[] = [];
    if (input.user.kind !== 'handle')
      identities.push({ platform: input.user.kind, externalId: input.user.id });
    if (input.slack) identities.push({ platform: 'slack', externalId: input.slack });
    if (input.discord) identities.push({ platform: 'discord', externalId: input.discord });

    let personId: number;
    const changes: string[] = [];
    if (existing) {
      personId = existing.id;
      if (existing.org && existing.org.id !== org.id) {
        const held = await tx
          .select({ capability: contacts.capability })
          .from(contacts)
          .where(and(eq(contacts.personId, existing.id), eq(contacts.orgId, existing.org.id)));
        if (held.length > 0) {
          const caps = [...new Set(held.map((h) => h.capability))].join(', ');
          throw conflict(
            `@${existing.handle} is a point of contact for ${existing.org.code} (${caps}): /poc remove them there before moving them to ${org.code}`,
          );
        }
      }
      const update: Partial<typeof people.$inferInsert> = {};
      if (existing.org?.id !== org.id) {
        update.orgId = org.id;
        changes.push(`organisation ${existing.org?.code ?? 'none'} → ${org.code}`);
      }
      if (existing.role !== input.role) {
        update.role = input.role;
        changes.push(`role ${existing.role ?? 'none'} → ${input.role}`);
      }
      if (input.name !== undefined && input.name.trim() !== existing.name) {
        update.name = input.name.trim();
        changes.push(`name → ${update.name}`);
      }
      if (input.tz !== undefined && input.tz !== existing.tz) {
        update.tz = input.tz;
        changes.push(`time zone → ${input.tz}`);
      }
      if (Object.keys(update).length > 0)
        await tx.update(people).set(update).where(eq(people.id, existing.id));
    } else {
      const handle = (input.handle ?? deriveHandle(input.user)).toLowerCase();
      if (!HANDLE_PATTERN.test(handle)) {
        throw usageError(
          `handle: "${handle}" must be lowercase letters, digits, dots, dashes or underscores`,
        );
      }
      const [taken] = await tx
        .select({ id: people.id })
        .from(people)
        .where(eq(people.handle, handle));
      if (taken)
        throw conflict(`the handle @${handle} is taken by someone else: give handle:<another>`);
      const [row] = await tx
        .insert(people)
        .values({
          handle,
          name: input.name?.trim() ?? input.user.label ?? handle,
          orgId: org.id,
          role: input.role,
          tz: input.tz ?? 'UTC',
        })
        .returning({ id: people.id });
      if (!row) throw new Error('insert into people returned nothing');
      personId = row.id;
      changes.push('added to the directory');
    }

    for (const identity of identities) {
      const [owner] = await tx
        .select({ personId: platformIdentities.personId })
        .from(platformIdentities)
        .where(
          and(
            eq(platformIdentities.platform, identity.platform),
            eq(platformIdentities.externalId, identity.externalId),
          ),
        );
      if (owner && owner.personId !== personId) {
        throw conflict(
          `${identity.platform} id ${identity.externalId} already belongs to someone else in the directory`,
        );
      }
      if (owner) continue;
      const [other] = await tx
        .select({ externalId: platformIdentities.externalId })
        .from(platformIdentities)
        .where(
          and(
            eq(platformIdentities.personId, personId),
            eq(platformIdentities.platform, identity.platform),
          ),
        );
      if (other) {
        throw conflict(
          `this person already has ${identity.platform} id ${other.externalId}; one account per platform`,
        );
      }
      await tx.insert(platformIdentities).values({ ...identity, personId });
      if (existing) changes.push(`${identity.platform} id ${identity.externalId}`);
    }

    const person = await requirePersonById(tx, personId);
    if (changes.length > 0) {
      await recordAudit(tx, {
        actor: actorOf(ctx),
        action: existing ? 'org.member.update' : 'org.member.add',
        subject: `person:${person.handle}`,
        detail: { org: org.code, role: input.role, changes, identities },
      });
    }
    return { person, created: !existing, changes };
  });
}

function deriveHandle(mention: Mention): string {
  if (mention.kind === 'handle') return mention.id;
  const fromLabel = mention.label
    ?.toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9._-]+/g, '.')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 40);
  return fromLabel || `${mention.kind}-${mention.id}`.toLowerCase().slice(0, 40);
}
