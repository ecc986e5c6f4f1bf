import { usageError } from '../../errors.js';
import { scheduleItem } from '../../jobs/items.js';
import type { DomainContext } from '../context.js';
import { type ChangedIncident, changeIncident, type IncidentTarget } from './change-incident.js';
import { STATUS_INTERVAL_MS, STATUS_REMINDER } from './severity.js';

/** `/incident update <text>`: a line on the timeline; it also resets the status reminder. */
export async function postUpdate({
  ctx,
  target,
  text,
}: {
  ctx: DomainContext;
  target: IncidentTarget;
  text: string;
}): Promise<ChangedIncident> {
  const line = text.trim();
  if (line.length === 0 || line.length > 2000)
    throw usageError('the update must be 1 to 2000 characters');
  return changeIncident(ctx, target, 'incident.update', async (tx, incident) => {
    const interval = STATUS_INTERVAL_MS[incident.severity];
    const items =
      incident.status === 'active' && interval !== null
        ? [
            await scheduleItem(tx, {
              kind: STATUS_REMINDER,
              subject: incident.ref,
              dueAt: new Date(ctx.now.getTime() + interval),
              data: { incidentId: incident.id },
            }),
          ]
        : [];
    return { kind: 'update', text: line, set: { summary: line }, items };
  });
}
