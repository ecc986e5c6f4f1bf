import type { ChannelRef } from '../../chat/refs.js';
import { platformOf } from '../../chat/refs.js';
import { orgInboxes } from '../../db/schema/organisations.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requireOrganisation } from './resolve.js';

/** Makes `channel` the organisation's inbox on that channel's platform (one per platform). */
export async function setInbox({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { org: string; channel: ChannelRef; private?: boolean | null };
}): Promise<{ org: string; previous: string | null }> {
  const platform = platformOf(input.channel);
  return ctx.db.transaction(async (tx) => {
    const org = await requireOrganisation(tx, input.org);
    const existing = await tx.query.orgInboxes.findFirst({
      where: (t, { and, eq }) => and(eq(t.orgId, org.id), eq(t.platform, platform)),
    });
    const isPrivate = input.private ?? null;
    if (existing?.channel === input.channel && existing.private === isPrivate)
      return { org: org.code, previous: existing.channel };
    await tx
      .insert(orgInboxes)
      .values({
        orgId: org.id,
        platform,
        channel: input.channel,
        private: isPrivate,
        updatedAt: ctx.now,
      })
      .onConflictDoUpdate({
        target: [orgInboxes.orgId, orgInboxes.platform],
        set: { channel: input.channel, private: isPrivate, updatedAt: ctx.now },
      });
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'org.inbox',
      subject: `org:${org.code}`,
      detail: {
        platform,
        channel: input.channel,
        private: isPrivate,
        previous: existing?.channel ?? null,
      },
    });
    return { org: org.code, previous: existing?.channel ?? null };
  });
}
