import { and, eq } from 'drizzle-orm';
import { type TlpLevel, tlpLabel } from '../../chat/message.js';
import type { ChannelRef } from '../../chat/refs.js';
import type { Mention, When } from '../../commands/values.js';
import type { Queryable } from '../../db/client.js';
import { forumParticipants, forumSessions } from '../../db/schema/forum.js';
import { conflict, tlpViolation, usageError } from '../../errors.js';
import { type ItemRef, scheduleItem } from '../../jobs/items.js';
import { resolveWhen } from '../../time/when.js';
import { formatInZone, toZoned } from '../../time/zoned.js';
import { mayDeliver } from '../../tlp/rules.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import { requireMentioned } from '../directory/resolve.js';
import { nextRef } from '../refs.js';
import { DEFAULT_REMINDERS_MS, describeOffset, reminderTime } from './reminder-times.js';

export const FORUM_REMINDER = 'forum.reminder';
export const FORUM_START = 'forum.start';

export interface ScheduleSessionInput {
  title: string;
  at: When;
  tz?: string;
  repeat: 'none' | 'yearly';
  /** Offsets before the start; absent means the defaults (30d, 7d, 1d, 1h). */
  reminders?: number[];
  participants: Mention[];
  tlp: TlpLevel;
  channel: ChannelRef;
  /** Whether the session's channel is private (null: the platform could not say). */
  channelPrivate: boolean | null;
}

export interface ScheduledSession {
  ref: string;
  title: string;
  startsAt: Date;
  tz: string;
  reminders: number[];
  /** Default reminders that were already past and so left out. */
  skipped: number[];
  participants: string[];
  items: ItemRef[];
}

export interface SessionPlan {
  title: string;
  startsAt: Date;
  tz: string;
  repeat: 'none' | 'yearly';
  reminders: number[];
  tlp: TlpLevel;
  channel: string;
  organiserId: number | null;
  participantIds: number[];
  previousId?: number;
}

/**
 * The session's reminders go to the channel it was scheduled in, so its level must be one that
 * channel may carry (design section 3): up to TLP:GREEN anywhere the organisers work, TLP:AMBER
 * and TLP:AMBER+STRICT only in a private channel, TLP:RED in no channel at all. The forum's own
 * channel counts as registered: organisers run the forum from it.
 */
function checkSessionChannel(tlp: TlpLevel, channelPrivate: boolean | null): void {
  const verdict = mayDeliver(
    tlp,
    { kind: 'channel', registered: true, private: channelPrivate === true, orgs: [] },
    { parties: [], named: [] },
  );
  if (verdict.ok) return;
  throw tlpViolation(
    tlp === 'red'
      ? `${tlpLabel(tlp)} goes only to named people by direct message, and a session's reminders go to its channel: choose a lower tlp:`
      : `${verdict.reason}, and a session's reminders go to this channel${channelPrivate === null ? ' (its platform could not say whether it is private)' : ''}: schedule it from a private channel, or choose tlp:green`,
  );
}

/**
 * Schedules a forum session: the row, its participants, a reminder item per offset and a start
 * item, all in one transaction with the audit row. Enqueue the returned items after commit.
 */
export async function scheduleSession({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: ScheduleSessionInput;
}): Promise<ScheduledSession> {
  const title = input.title.trim();
  if (title.length === 0 || title.length > 200)
    throw usageError('the title must be 1 to 200 characters');
  const tz = input.tz ?? ctx.speaker.person?.tz ?? 'UTC';
  const startsAt = resolveWhen(input.at, tz, ctx.now);
  if (startsAt.getTime() <= ctx.now.getTime()) {
    throw usageError(`at: ${formatInZone(startsAt, tz)} is in the past`);
  }
  const explicit = input.reminders !== undefined;
  const offsets = [...new Set(input.reminders ?? DEFAULT_REMINDERS_MS)].sort((a, b) => b - a);
  const past = offsets.filter((o) => reminderTime(startsAt, tz, o).getTime() <= ctx.now.getTime());
  if (explicit && past.length > 0) {
    throw usageError(
      `remind: ${past.map(describeOffset).join(', ')} before ${formatInZone(startsAt, tz)} is already past`,
    );
  }
  const reminders = offsets.filter((o) => !past.includes(o));
  checkSessionChannel(input.tlp, input.channelPrivate);

  return ctx.db.transaction(async (tx) => {
    const participantIds = new Set<number>();
    const handles: string[] = [];
    for (const mention of input.participants) {
      const person = await requireMentioned(tx, mention);
      if (!participantIds.has(person.id)) handles.push(person.handle);
      participantIds.add(person.id);
    }
    const organiser = ctx.speaker.person;
    if (organiser && !participantIds.has(organiser.id)) {
      participantIds.add(organiser.id);
      handles.unshift(organiser.handle);
    }
    const created = await insertSession(tx, {
      title,
      startsAt,
      tz,
      repeat: input.repeat,
      reminders,
      tlp: input.tlp,
      channel: input.channel,
      organiserId: organiser?.id ?? null,
      participantIds: [...participantIds],
    });
    if (!created)
      throw conflict(`"${title}" is already scheduled at ${formatInZone(startsAt, tz)}`);
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'forum.schedule',
      subject: `forum:${created.ref}`,
      detail: {
        title,
        startsAt: startsAt.toISOString(),
        tz,
        repeat: input.repeat,
        reminders: reminders.map(describeOffset),
        participants: handles,
      },
    });
    return {
      ref: created.ref,
      title,
      startsAt,
      tz,
      reminders,
      skipped: past,
      participants: handles,
      items: created.items,
    };
  });
}

/**
 * Inserts a session with its participants and schedule; null when one with the same title and
 * start exists. Shared by `/forum schedule` and by a yearly session creating next year's.
 */
export async function insertSession(
  tx: Queryable,
  plan: SessionPlan,
  schedule: (input: Parameters<typeof scheduleItem>[1]) => Promise<ItemRef> = (input) =>
    scheduleItem(tx, input),
): Promise<{ id: number; ref: string; items: ItemRef[] } | null> {
  const [existing] = await tx
    .select({ id: forumSessions.id })
    .from(forumSessions)
    .where(and(eq(forumSessions.title, plan.title), eq(forumSessions.startsAt, plan.startsAt)));
  if (existing) return null;
  const anchor = toZoned(plan.startsAt, plan.tz);
  const ref = await nextRef(tx, 'FS', anchor.year);
  const [session] = await tx
    .insert(forumSessions)
    .values({
      ref,
      title: plan.title,
      startsAt: plan.startsAt,
      tz: plan.tz,
      anchor,
      repeat: plan.repeat,
      reminders: plan.reminders,
      tlp: plan.tlp,
      channel: plan.channel,
      organiserId: plan.organiserId,
      previousId: plan.previousId ?? null,
    })
    .returning({ id: forumSessions.id });
  if (!session) throw new Error('insert into forum_sessions returned nothing');
  if (plan.participantIds.length > 0) {
    await tx
      .insert(forumParticipants)
      .values(plan.participantIds.map((personId) => ({ sessionId: session.id, personId })));
  }
  const items: ItemRef[] = [];
  for (const offset of plan.reminders) {
    items.push(
      await schedule({
        kind: FORUM_REMINDER,
        subject: `${ref}/${describeOffset(offset)}`,
        dueAt: reminderTime(plan.startsAt, plan.tz, offset),
        data: { sessionId: session.id, offsetMs: offset },
      }),
    );
  }
  items.push(
    await schedule({
      kind: FORUM_START,
      subject: ref,
      dueAt: plan.startsAt,
      data: { sessionId: session.id },
    }),
  );
  return { id: session.id, ref, items };
}
