import type { Severity } from '../../db/schema/incidents.js';

const HOUR = 3_600_000;

/** How often an active incident asks for a status update (design section 2); low never does. */
export const STATUS_INTERVAL_MS: Record<Severity, number | null> = {
  critical: HOUR,
  high: 4 * HOUR,
  medium: 24 * HOUR,
  low: null,
};

export const STATUS_REMINDER = 'incident.status-reminder';
export const REVIEW_REMINDER = 'incident.review';
/** The post-incident review is due a week after closing. */
export const REVIEW_AFTER_MS = 7 * 24 * HOUR;
