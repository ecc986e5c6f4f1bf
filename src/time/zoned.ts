import type { LocalDate, LocalDateTime } from '../commands/values.js';
import { dateTimeFormat } from './formatter.js';

const partsFormatter = (tz: string) =>
  dateTimeFormat('parts', 'en-US', tz, {
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });

/** The wall-clock time in `tz` at an instant. */
export function toZoned(at: Date, tz: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of partsFormatter(tz).formatToParts(at))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

const wallAsUtc = (t: LocalDateTime) =>
  Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);

/** How far `tz` is ahead of UTC at an instant, in milliseconds. */
export function offsetMs(at: Date, tz: string): number {
  const whole = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return wallAsUtc(toZoned(whole, tz)) - whole.getTime();
}

/**
 * The instant a wall-clock time in `tz` names. A time that does not exist (the hour skipped when
 * clocks go forward) moves forward by the gap, as a calendar does; a time that happens twice
 * (clocks going back) is the first of the two. A time carrying its own offset ignores `tz`.
 */
export function fromZoned(local: LocalDateTime, tz: string): Date {
  if (local.offsetMinutes !== undefined)
    return new Date(wallAsUtc(local) - local.offsetMinutes * 60_000);
  const wall = wallAsUtc(local);
  // Try the offsets in force a day either side: one of them is right unless the time is in a gap.
  const candidates = [
    offsetMs(new Date(wall - 86_400_000), tz),
    offsetMs(new Date(wall + 86_400_000), tz),
  ];
  const matches = candidates
    .map((offset) => wall - offset)
    .filter((instant) => wallAsUtc(toZoned(new Date(instant), tz)) === wall)
    .sort((a, b) => a - b);
  if (matches[0] !== undefined) return new Date(matches[0]);
  // In the gap: the wall time read with the offset before the change lands after it.
  return new Date(wall - Math.min(...candidates));
}

/** The same wall-clock time `days` days later (or earlier) in `tz`: calendar days, not 24 hours. */
export function addLocalDays(at: Date, tz: string, days: number): Date {
  const local = toZoned(at, tz);
  const shifted = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return fromZoned(
    {
      ...local,
      year: shifted.getUTCFullYear(),
      month: shifted.getUTCMonth() + 1,
      day: shifted.getUTCDate(),
    },
    tz,
  );
}

const daysInMonth = (year: number, month: number) =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The occurrence in `year` of a yearly event first set at `anchor` (local time in `tz`): the same
 * month, day and time, with 29 February falling on the 28th in common years.
 */
export function yearlyOccurrence(anchor: LocalDateTime, tz: string, year: number): Date {
  const day = Math.min(anchor.day, daysInMonth(year, anchor.month));
  return fromZoned({ ...anchor, year, day, offsetMinutes: undefined }, tz);
}

/** The end of a date in `tz` (the last second of that day). */
export function endOfLocalDay(date: LocalDate, tz: string): Date {
  return fromZoned({ ...date, hour: 23, minute: 59, second: 59 }, tz);
}

/** `Tue 9 Nov 2027, 10:00 CET`: how a reader in `tz` sees an instant. */
export function formatInZone(at: Date, tz: string): string {
  const f = dateTimeFormat('readable', 'en-GB', tz, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  });
  return f.format(at).replace(/ at /, ', ');
}
