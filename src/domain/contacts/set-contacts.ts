import type { Mention } from '../../commands/values.js';
import { conflict, usageError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requireMentioned, requireOrganisation } from '../directory/resolve.js';
import type { Person } from '../directory/speaker.js';
import { readContactList, sameOrder, writeContactList } from './contact-list.js';

/** Backups beyond this are a phone tree, not a contact list. */
export const MAX_BACKUPS = 10;

export interface SetContactsInput {
  org: string;
  capability: string;
  primary: Mention;
  backups: Mention[];
}

export interface SetContactsResult {
  org: string;
  capability: string;
  contacts: Person[];
  changed: boolean;
}

/**
 * Sets the primary and the ordered backups for an organisation's capability, replacing the list.
 * People who stay keep their last confirmation; people who are new count as confirmed now.
 */
export async function setContacts({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: SetContactsInput;
}): Promise<SetContactsResult> {
  if (input.backups.length > MAX_BACKUPS)
    throw usageError(`backup: at most ${MAX_BACKUPS} backups`);
  return ctx.db.transaction(async (tx) => {
    const org = await requireOrganisation(tx, input.org);
    const wanted: Person[] = [];
    for (const mention of [input.primary, ...input.backups]) {
      const person = await requireMentioned(tx, mention);
      if (wanted.some((p) => p.id === person.id))
        throw usageError(`@${person.handle} is listed twice`);
      if (person.org?.id !== org.id) {
        throw conflict(
          `@${person.handle} is not a member of ${org.code}${person.org ? ` (they are with ${person.org.code})` : ''}: contacts must belong to the organisation`,
        );
      }
      wanted.push(person);
    }
    const before = await readContactList(tx, org.id, input.capability);
    const next = wanted.map((p) => ({
      personId: p.id,
      lastConfirmedAt: before.find((b) => b.personId === p.id)?.lastConfirmedAt ?? ctx.now,
    }));
    if (sameOrder(before, next))
      return { org: org.code, capability: input.capability, contacts: wanted, changed: false };
    await writeContactList(tx, org.id, input.capability, next);
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'poc.set',
      subject: `poc:${org.code}/${input.capability}`,
      detail: { before: before.map((b) => b.handle), after: wanted.map((p) => p.handle) },
    });
    return { org: org.code, capability: input.capability, contacts: wanted, changed: true };
  });
}
