import { and, asc, eq } from 'drizzle-orm';
import type { ChannelRef } from '../../chat/refs.js';
import { platformOf } from '../../chat/refs.js';
import type { LocalDate, Mention } from '../../commands/values.js';
import type { Queryable } from '../../db/client.js';
import { forumActions, forumSessions } from '../../db/schema/forum.js';
import { people } from '../../db/schema/people.js';
import { conflict, forbidden, notFound, usageError } from '../../errors.js';
import { cancelItems, type ItemRef, scheduleItem } from '../../jobs/items.js';
import type { ItemHandler } from '../../jobs/worker.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { reachPeople } from '../directory/reach.js';
import { requireMentioned } from '../directory/resolve.js';
import { daysUntil, nextActionReminder } from './action-times.js';

export const FORUM_ACTION = 'forum.action';
const subjectOf = (id: number) => `action-${id}`;
const isoDate = (d: LocalDate) =>
  `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

async function requireSession(db: Queryable, ref: string) {
  const [session] = await db
    .select()
    .from(forumSessions)
    .where(eq(forumSessions.ref, ref.toUpperCase()));
  if (!session) throw notFound(`no forum session ${ref.toUpperCase()}: /forum list shows them`);
  return session;
}

/** Records an action item from a session and schedules its owner's reminders. */
export async function addAction({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { sessionRef: string; text: string; owner: Mention; due: LocalDate };
}): Promise<{
  id: number;
  sessionRef: string;
  owner: string;
  due: string;
  firstReminder: Date;
  item: ItemRef;
}> {
  const text = input.text.trim();
  if (text.length === 0 || text.length > 500)
    throw usageError('the action needs a text of 1 to 500 characters');
  return ctx.db.transaction(async (tx) => {
    const session = await requireSession(tx, input.sessionRef);
    if (session.status === 'cancelled') throw conflict(`${session.ref} was cancelled`);
    const owner = await requireMentioned(tx, input.owner);
    const due = isoDate(input.due);
    if (daysUntil(due, owner.tz, ctx.now) < 0)
      throw usageError(`due: ${due} is already past for @${owner.handle}`);
    const [action] = await tx
      .insert(forumActions)
      .values({ sessionId: session.id, text, ownerId: owner.id, due })
      .returning({ id: forumActions.id });
    if (!action) throw new Error('insert into forum_actions returned nothing');
    const firstReminder = nextActionReminder(due, owner.tz, ctx.now);
    const item = await scheduleItem(tx, {
      kind: FORUM_ACTION,
      subject: subjectOf(action.id),
      dueAt: firstReminder,
      data: { actionId: action.id },
    });
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'forum.action.add',
      subject: `action:${action.id}`,
      detail: { session: session.ref, text, owner: owner.handle, due },
    });
    return {
      id: action.id,
      sessionRef: session.ref,
      owner: owner.handle,
      due,
      firstReminder,
      item,
    };
  });
}

/** Marks an action done (its owner, an organiser or an admin) and stops its reminders. */
export async function completeAction({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: { id: number };
}) {
  return ctx.db.transaction(async (tx) => {
    const [action] = await tx
      .select()
      .from(forumActions)
      .where(eq(forumActions.id, input.id))
      .for('update');
    if (!action) throw notFound(`no action #${input.id}: /forum actions lists them`);
    if (action.status === 'done') throw conflict(`action #${input.id} is already done`);
    const me = ctx.speaker.person;
    const allowed = ctx.speaker.isAdmin || me?.role === 'organiser' || me?.id === action.ownerId;
    if (!allowed)
      throw forbidden(`only the owner of #${input.id}, an organiser or an admin may mark it done`);
    await tx
      .update(forumActions)
      .set({ status: 'done', doneAt: ctx.now })
      .where(eq(forumActions.id, action.id));
    await cancelItems(tx, FORUM_ACTION, subjectOf(action.id));
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'forum.action.done',
      subject: `action:${action.id}`,
      detail: {},
    });
    return { id: action.id, text: action.text };
  });
}

/** Open action items, of one session or all, soonest due first. */
export async function listActions(db: Queryable, input: { sessionRef?: string }) {
  const conditions = [eq(forumActions.status, 'open')];
  if (input.sessionRef)
    conditions.push(eq(forumActions.sessionId, (await requireSession(db, input.sessionRef)).id));
  return db
    .select({
      id: forumActions.id,
      text: forumActions.text,
      due: forumActions.due,
      session: forumSessions.ref,
      owner: people.handle,
      tz: people.tz,
    })
    .from(forumActions)
    .innerJoin(forumSessions, eq(forumSessions.id, forumActions.sessionId))
    .innerJoin(people, eq(people.id, forumActions.ownerId))
    .where(and(...conditions))
    .orderBy(asc(forumActions.due), asc(forumActions.id));
}

/** `forum.action`: reminds the owner, then comes back two days later until the action is done. */
export const forumActionReminder: ItemHandler = async ({ tx, item, now, deliver }) => {
  const actionId = Number((item.data as { actionId?: unknown }).actionId);
  const [row] = await tx
    .select({ action: forumActions, session: forumSessions })
    .from(forumActions)
    .innerJoin(forumSessions, eq(forumSessions.id, forumActions.sessionId))
    .where(eq(forumActions.id, actionId));
  if (!row || row.action.status === 'done') return undefined;
  const { action, session } = row;
  const [owner] = await reachPeople(
    tx,
    [action.ownerId],
    platformOf(session.channel as ChannelRef),
  );
  if (owner?.user) {
    const days = daysUntil(action.due, owner.tz, now);
    const when =
      days === 1
        ? 'due tomorrow'
        : days === 0
          ? 'due today'
          : days > 1
            ? `due in ${days} days`
            : `overdue by ${-days} day${days === -1 ? '' : 's'}`;
    await deliver({
      key: `${item.kind}-${item.id}-${item.generation}/${owner.user}`,
      mode: 'direct',
      target: owner.user,
      message: {
        tlp: session.tlp,
        title: `Action #${action.id} from ${session.ref} is ${when}: ${action.text}`,
        fields: [{ label: 'Due', value: action.due }],
        footer: `When it is done: /forum done ${action.id}`,
      },
    });
  }
  return {
    again: nextActionReminder(action.due, owner?.tz ?? 'UTC', new Date(now.getTime() + 1000)),
  };
};
