import { addLocalDays } from '../../time/zoned.js';

const DAY_MS = 86_400_000;

/**
 * When each reminder before a session fires. Whole days count in calendar days of the session's
 * zone, so "1d before a 10:00 session" is 10:00 the day before even across a clock change;
 * anything else (`1h`, `90m`, `36h`) is an exact duration. Durations are milliseconds once
 * parsed, so `24h` and `48h` count as whole days too.
 */
export function reminderTime(startsAt: Date, tz: string, offsetMs: number): Date {
  if (offsetMs % DAY_MS === 0) return addLocalDays(startsAt, tz, -offsetMs / DAY_MS);
  return new Date(startsAt.getTime() - offsetMs);
}

/** `30d`, `7d`, `1d`, `1h`: how an offset reads back. */
export function describeOffset(offsetMs: number): string {
  for (const [unit, ms] of [
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    if (offsetMs % ms === 0) return `${offsetMs / ms}${unit}`;
  }
  return `${Math.round(offsetMs / 1000)}s`;
}

export const DEFAULT_REMINDERS_MS = [30 * DAY_MS, 7 * DAY_MS, DAY_MS, 3_600_000];
