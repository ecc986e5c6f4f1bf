import { fromZoned } from '../../time/zoned.js';

/** Reminders about an action item go out at this local hour, in the owner's zone. */
export const ACTION_REMINDER_HOUR = 9;

function atLocalNine(due: string, dayOffset: number, tz: string): Date {
  const [y, m, d] = due.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d + dayOffset));
  return fromZoned(
    {
      year: day.getUTCFullYear(),
      month: day.getUTCMonth() + 1,
      day: day.getUTCDate(),
      hour: ACTION_REMINDER_HOUR,
      minute: 0,
      second: 0,
    },
    tz,
  );
}

/**
 * The next reminder about an action due on `due` (YYYY-MM-DD) after `after`: 09:00 the owner's
 * time the day before, then 09:00 every second day after the due date until it is done.
 */
export function nextActionReminder(due: string, tz: string, after: Date): Date {
  const before = atLocalNine(due, -1, tz);
  if (before.getTime() > after.getTime()) return before;
  for (let days = 2; ; days += 2) {
    const at = atLocalNine(due, days, tz);
    if (at.getTime() > after.getTime()) return at;
  }
}

/** Whole days from today (in `tz`) to `due`: 1 is tomorrow, -3 three days overdue. */
export function daysUntil(due: string, tz: string, now: Date): number {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(now);
  return Math.round(
    (Date.parse(`${due}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000,
  );
}
