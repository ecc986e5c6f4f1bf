import type { AlertSeverity, Urgency } from '../../db/schema/assistance.js';

const MINUTE = 60_000;

/** How long an organisation has to accept a request before it goes to the next contact. */
export const URGENCY_DEADLINE_MS: Record<Urgency, number> = {
  critical: 15 * MINUTE,
  urgent: 60 * MINUTE,
  routine: 24 * 60 * MINUTE,
};

/**
 * How long an early warning waits for an acknowledgement before it goes to the next contact.
 * The issue names no times for alerts; these follow the request deadlines by severity.
 */
export const ALERT_DEADLINE_MS: Record<AlertSeverity, number> = {
  critical: 15 * MINUTE,
  high: 60 * MINUTE,
  medium: 4 * 60 * MINUTE,
  low: 24 * 60 * MINUTE,
};
