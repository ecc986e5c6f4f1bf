import { sql } from 'drizzle-orm';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { forbidden, notFound } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';

/** The speaker confirms they still hold every point-of-contact role they are listed in. */
export async function confirmContacts({
  ctx,
}: {
  ctx: DomainContext;
}): Promise<{ roles: string[] }> {
  const person = ctx.speaker.person;
  if (!person) throw forbidden('you are not in the directory, so you hold no contact roles');
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(contacts)
      .set({ lastConfirmedAt: ctx.now })
      .from(organisations)
      .where(sql`${contacts.personId} = ${person.id} and ${organisations.id} = ${contacts.orgId}`)
      .returning({ org: organisations.code, capability: contacts.capability, rank: contacts.rank });
    if (rows.length === 0)
      throw notFound('you are not listed as a point of contact anywhere: nothing to confirm');
    const roles = rows
      .map((r) => `${r.org} ${r.capability} (${r.rank === 0 ? 'primary' : `backup ${r.rank}`})`)
      .sort();
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'poc.confirm',
      subject: `person:${person.handle}`,
      detail: { roles },
    });
    return { roles };
  });
}
