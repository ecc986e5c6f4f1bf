import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ChannelRef, ChatPlatform } from '../../chat/refs.js';
import { incidentChannels, incidents } from '../../db/schema/incidents.js';
import type { ItemHandler } from '../../jobs/worker.js';
import { reachPeople } from '../directory/reach.js';
import { describeOffset } from '../forum/reminder-times.js';
import { STATUS_INTERVAL_MS } from './severity.js';

const IncidentData = z.object({ incidentId: z.number().int().positive() });

/**
 * `incident.status-reminder`: while an incident is active, each of its channels is asked for a
 * status update at the severity's interval. An update or a status change reschedules it (a new
 * generation), so the reminder counts from the last news.
 */
export const incidentStatusReminder: ItemHandler = async ({ tx, item, now, deliver }) => {
  const { incidentId } = IncidentData.parse(item.data);
  const [incident] = await tx.select().from(incidents).where(eq(incidents.id, incidentId));
  const interval = incident ? STATUS_INTERVAL_MS[incident.severity] : null;
  if (incident?.status !== 'active' || interval === null) return undefined;
  const channels = await tx
    .select({ channel: incidentChannels.channel })
    .from(incidentChannels)
    .where(and(eq(incidentChannels.incidentId, incident.id), eq(incidentChannels.archived, false)));
  for (const { channel } of channels) {
    if (!channel) continue;
    await deliver({
      key: `${item.kind}-${item.id}-${item.generation}/${channel}`,
      mode: 'channel',
      target: channel as ChannelRef,
      message: {
        tlp: incident.tlp,
        title: `⏰ ${incident.ref}: no status update for ${describeOffset(interval)}`,
        body: 'Post one with /incident update <text>, or /incident status stable once it is contained.',
      },
    });
  }
  return { again: new Date(now.getTime() + interval) };
};

/** `incident.review`: a week after closing, the lead (or the opener) is asked for the review. */
export const incidentReviewReminder: ItemHandler = async ({ tx, item, deliver }) => {
  const { incidentId } = IncidentData.parse(item.data);
  const [incident] = await tx.select().from(incidents).where(eq(incidents.id, incidentId));
  if (incident?.status !== 'closed') return undefined;
  const [person] = await reachPeople(
    tx,
    [incident.leadId ?? incident.openerId],
    incident.platform as ChatPlatform,
  );
  if (!person?.user) return undefined;
  await deliver({
    key: `${item.kind}-${item.id}-${item.generation}/${person.user}`,
    mode: 'direct',
    target: person.user,
    message: {
      tlp: incident.tlp,
      title: `📝 Post-incident review due: ${incident.ref} · ${incident.title}`,
      body: `${incident.ref} closed a week ago. /incident report ${incident.ref} gives the timeline to start from.`,
    },
  });
  return undefined;
};
