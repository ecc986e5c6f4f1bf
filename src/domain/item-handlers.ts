import type { ChatPlatform } from '../chat/refs.js';
import type { ItemHandler } from '../jobs/worker.js';
import { CONTACTS_NAG, nagStaleContacts } from './contacts/nag-stale-contacts.js';
import { FORUM_ACTION, forumActionReminder } from './forum/actions.js';
import { FORUM_REMINDER, FORUM_START } from './forum/schedule-session.js';
import { forumReminder, forumStart } from './forum/session-handlers.js';
import { INBOUND_SWEEP, sweepInboundKeys } from './inbound/sweep-keys.js';
import { incidentReviewReminder, incidentStatusReminder } from './incidents/reminders.js';
import { REVIEW_REMINDER, STATUS_REMINDER } from './incidents/severity.js';
import { escalateRouting, escalateRoutingOn } from './routing/escalate.js';
import { escalationKind } from './routing/route.js';

/**
 * What each kind of scheduled item does when it falls due. `directPlatform` is where direct
 * messages go when a person is on several (the shell, when Concord runs in a terminal);
 * `running`, the chat platforms escalations may reach people on (default: both).
 */
export function itemHandlers(
  options: { directPlatform?: ChatPlatform; running?: readonly ChatPlatform[] } = {},
): Record<string, ItemHandler> {
  const escalate = options.running ? escalateRoutingOn(options.running) : escalateRouting;
  return {
    [CONTACTS_NAG]: nagStaleContacts(options.directPlatform ?? 'slack'),
    [INBOUND_SWEEP]: sweepInboundKeys,
    [FORUM_REMINDER]: forumReminder,
    [FORUM_START]: forumStart,
    [FORUM_ACTION]: forumActionReminder,
    [STATUS_REMINDER]: incidentStatusReminder,
    [REVIEW_REMINDER]: incidentReviewReminder,
    [escalationKind('request')]: escalate,
    [escalationKind('alert')]: escalate,
  };
}
