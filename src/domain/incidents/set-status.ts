import { cancelItems, scheduleItem } from '../../jobs/items.js';
import type { DomainContext } from '../context.js';
import { type ChangedIncident, changeIncident, type IncidentTarget } from './change-incident.js';
import { STATUS_INTERVAL_MS, STATUS_REMINDER } from './severity.js';

/**
 * `/incident status active|stable`: status reminders run only while active. `closed` goes
 * through `closeIncident`, which also archives and reports.
 */
export async function setStatus({
  ctx,
  target,
  status,
  note,
}: {
  ctx: DomainContext;
  target: IncidentTarget;
  status: 'active' | 'stable';
  note?: string | undefined;
}): Promise<ChangedIncident> {
  return changeIncident(ctx, target, 'incident.status', async (tx, incident) => {
    const interval = STATUS_INTERVAL_MS[incident.severity];
    const items = [];
    if (status === 'active' && interval !== null) {
      items.push(
        await scheduleItem(tx, {
          kind: STATUS_REMINDER,
          subject: incident.ref,
          dueAt: new Date(ctx.now.getTime() + interval),
          data: { incidentId: incident.id },
        }),
      );
    } else if (status !== 'active') {
      await cancelItems(tx, STATUS_REMINDER, incident.ref);
    }
    const changed = incident.status !== status;
    return {
      kind: 'status',
      text: `${changed ? `${incident.status} → ${status}` : `still ${status}`}${note ? `: ${note.trim()}` : ''}`,
      set: { status },
      detail: { from: incident.status, to: status },
      items,
    };
  });
}
