import type { Mention } from '../../commands/values.js';
import { notFound } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requireMentioned, requireOrganisation } from '../directory/resolve.js';
import { readContactList, writeContactList } from './contact-list.js';

export interface RemoveContactResult {
  handle: string;
  wasRank: number;
  /** Who is primary now, if anyone is left. */
  primary: string | null;
  remaining: number;
}

/** Takes one person off an organisation's list for a capability; the others move up. */
export async function removeContact({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { org: string; capability: string; user: Mention };
}): Promise<RemoveContactResult> {
  return ctx.db.transaction(async (tx) => {
    const org = await requireOrganisation(tx, input.org);
    const person = await requireMentioned(tx, input.user);
    const before = await readContactList(tx, org.id, input.capability);
    const wasRank = before.findIndex((c) => c.personId === person.id);
    if (wasRank < 0) {
      throw notFound(`@${person.handle} is not a ${input.capability} contact for ${org.code}`);
    }
    const after = before.filter((c) => c.personId !== person.id);
    await writeContactList(tx, org.id, input.capability, after);
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'poc.remove',
      subject: `poc:${org.code}/${input.capability}`,
      detail: {
        removed: person.handle,
        wasRank,
        before: before.map((b) => b.handle),
        after: after.map((a) => a.handle),
      },
    });
    return {
      handle: person.handle,
      wasRank,
      primary: after[0]?.handle ?? null,
      remaining: after.length,
    };
  });
}
