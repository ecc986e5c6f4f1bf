import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatMessage } from '../../chat/message.js';
import { type ChannelRef, platformOf } from '../../chat/refs.js';
import type { Queryable } from '../../db/client.js';
import { forumParticipants, forumSessions } from '../../db/schema/forum.js';
import type { ItemHandler } from '../../jobs/worker.js';
import { formatInZone, yearlyOccurrence } from '../../time/zoned.js';
import { recordAudit } from '../audit.js';
import { reachPeople } from '../directory/reach.js';
import { describeOffset } from './reminder-times.js';
import { insertSession } from './schedule-session.js';

const SessionData = z.object({
  sessionId: z.number().int(),
  offsetMs: z.number().int().positive().optional(),
});

async function loadSession(db: Queryable, sessionId: number) {
  const [session] = await db.select().from(forumSessions).where(eq(forumSessions.id, sessionId));
  if (!session) return null;
  const participants = await db
    .select({ personId: forumParticipants.personId })
    .from(forumParticipants)
    .where(eq(forumParticipants.sessionId, sessionId));
  return { session, participantIds: participants.map((p) => p.personId) };
}

type Session = typeof forumSessions.$inferSelect;

/** The reminder as one reader sees it: the start in their own zone, and in the session's. */
function reminderMessage(session: Session, lead: string, readerTz: string): ChatMessage {
  const fields = [
    { label: 'When', value: `${formatInZone(session.startsAt, readerTz)} (${readerTz})` },
  ];
  if (readerTz !== session.tz) {
    fields.push({
      label: 'Session time',
      value: `${formatInZone(session.startsAt, session.tz)} (${session.tz})`,
    });
  }
  return {
    tlp: session.tlp,
    title: `Forum session ${session.ref} ${lead}: ${session.title}`,
    fields,
  };
}

const humanLead = (offsetMs: number) => `starts in ${describeOffset(offsetMs)}`;

/** `forum.reminder`: the session's channel and every participant, each in their own time zone. */
export const forumReminder: ItemHandler = async ({ tx, item, deliver }) => {
  const data = SessionData.parse(item.data);
  const loaded = await loadSession(tx, data.sessionId);
  if (loaded?.session.status !== 'scheduled') return undefined;
  const { session, participantIds } = loaded;
  const lead = humanLead(data.offsetMs ?? 0);
  const key = `${item.kind}-${item.id}-${item.generation}`;
  const channel = session.channel as ChannelRef;
  await deliver({
    key: `${key}/${channel}`,
    mode: 'channel',
    target: channel,
    message: reminderMessage(session, lead, session.tz),
  });
  for (const person of await reachPeople(tx, participantIds, platformOf(channel))) {
    if (!person.user) continue;
    await deliver({
      key: `${key}/${person.user}`,
      mode: 'direct',
      target: person.user,
      message: reminderMessage(session, lead, person.tz),
    });
  }
  return undefined;
};

/**
 * `forum.start`: the session takes place. It is marked held, the channel is told, and a yearly
 * session schedules next year's occurrence at the same local time.
 */
export const forumStart: ItemHandler = async ({ tx, item, now, deliver, schedule }) => {
  const data = SessionData.parse(item.data);
  const loaded = await loadSession(tx, data.sessionId);
  if (loaded?.session.status !== 'scheduled') return undefined;
  const { session, participantIds } = loaded;
  await tx.update(forumSessions).set({ status: 'held' }).where(eq(forumSessions.id, session.id));
  const fields = [];
  if (session.repeat === 'yearly') {
    const startsAt = yearlyOccurrence(session.anchor, session.tz, session.anchor.year + 1);
    const next = await insertSession(
      tx,
      {
        title: session.title,
        startsAt,
        tz: session.tz,
        repeat: 'yearly',
        reminders: session.reminders,
        tlp: session.tlp,
        channel: session.channel,
        organiserId: session.organiserId,
        participantIds,
        previousId: session.id,
      },
      schedule,
    );
    if (next) {
      fields.push({
        label: 'Next year',
        value: `${next.ref}, ${formatInZone(startsAt, session.tz)} (${session.tz})`,
      });
      await recordAudit(tx, {
        actor: 'scheduler',
        action: 'forum.schedule',
        subject: `forum:${next.ref}`,
        detail: {
          title: session.title,
          startsAt: startsAt.toISOString(),
          tz: session.tz,
          repeat: 'yearly',
          previous: session.ref,
        },
      });
    }
  }
  const channel = session.channel as ChannelRef;
  await deliver({
    key: `${item.kind}-${item.id}-${item.generation}/${channel}`,
    mode: 'channel',
    target: channel,
    message: {
      tlp: session.tlp,
      title: `Forum session ${session.ref} starts now: ${session.title}`,
      fields,
    },
  });
  await recordAudit(tx, {
    actor: 'scheduler',
    action: 'forum.held',
    subject: `forum:${session.ref}`,
    detail: { at: now.toISOString() },
  });
  return undefined;
};
