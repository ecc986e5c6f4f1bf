import { eq } from 'drizzle-orm';
import { forumSessions } from '../../db/schema/forum.js';
import { conflict, notFound } from '../../errors.js';
import { cancelItems } from '../../jobs/items.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { FORUM_REMINDER, FORUM_START } from './schedule-session.js';

/** Cancels a scheduled session and every reminder it still had to send. */
export async function cancelSession({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { ref: string };
}) {
  const ref = input.ref.toUpperCase();
  return ctx.db.transaction(async (tx) => {
    const [session] = await tx
      .select()
      .from(forumSessions)
      .where(eq(forumSessions.ref, ref))
      .for('update');
    if (!session) throw notFound(`no forum session ${ref}: /forum list shows them`);
    if (session.status !== 'scheduled') throw conflict(`${ref} is already ${session.status}`);
    await tx
      .update(forumSessions)
      .set({ status: 'cancelled' })
      .where(eq(forumSessions.id, session.id));
    const cancelled =
      (await cancelItems(tx, FORUM_REMINDER, ref)) + (await cancelItems(tx, FORUM_START, ref));
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'forum.cancel',
      subject: `forum:${ref}`,
      detail: { cancelledItems: cancelled },
    });
    return { ref, title: session.title, cancelledItems: cancelled };
  });
}
