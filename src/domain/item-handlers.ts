import type { ItemHandler } from '../jobs/worker.js';
import { FORUM_ACTION, forumActionReminder } from './forum/actions.js';
import { FORUM_REMINDER, FORUM_START } from './forum/schedule-session.js';
import { forumReminder, forumStart } from './forum/session-handlers.js';

/** What each kind of scheduled item does when it falls due. */
export function itemHandlers(): Record<string, ItemHandler> {
  return {
    [FORUM_REMINDER]: forumReminder,
    [FORUM_START]: forumStart,
    [FORUM_ACTION]: forumActionReminder,
  };
}
