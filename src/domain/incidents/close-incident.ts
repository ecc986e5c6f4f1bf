import { cancelItems, scheduleItem } from '../../jobs/items.js';
import type { DomainContext } from '../context.js';
import { type ChangedIncident, changeIncident, type IncidentTarget } from './change-incident.js';
import { REVIEW_AFTER_MS, REVIEW_REMINDER, STATUS_REMINDER } from './severity.js';

/**
 * `/incident close [summary]`: status closed, status reminders cancelled, a post-incident review
 * reminder a week out. The provisioner then posts the timeline report and archives the channels.
 */
export async function closeIncident({
  ctx,
  target,
  summary,
}: {
  ctx: DomainContext;
  target: IncidentTarget;
  summary?: string | undefined;
}): Promise<ChangedIncident> {
  return changeIncident(ctx, target, 'incident.close', async (tx, incident) => {
    await cancelItems(tx, STATUS_REMINDER, incident.ref);
    const review = await scheduleItem(tx, {
      kind: REVIEW_REMINDER,
      subject: incident.ref,
      dueAt: new Date(ctx.now.getTime() + REVIEW_AFTER_MS),
      data: { incidentId: incident.id },
    });
    const text = summary?.trim();
    return {
      kind: 'closed',
      text: text ?? 'no summary given',
      set: { status: 'closed', closedAt: ctx.now, ...(text ? { summary: text } : {}) },
      items: [review],
    };
  });
}
