import { describe, expect, it } from 'vitest';
import type { LocalDateTime } from '../../src/commands/values.js';
import { daysUntil, nextActionReminder } from '../../src/domain/forum/action-times.js';
import { reminderTime } from '../../src/domain/forum/reminder-times.js';
import {
  addLocalDays,
  formatInZone,
  fromZoned,
  toZoned,
  yearlyOccurrence,
} from '../../src/time/zoned.js';

const local = (text: string): LocalDateTime => {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)$/.exec(text);
  if (!m) throw new Error(text);
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i]));
  return {
    year: year ?? 0,
    month: month ?? 0,
    day: day ?? 0,
    hour: hour ?? 0,
    minute: minute ?? 0,
    second: 0,
  };
};
const utc = (iso: string) => new Date(iso).toISOString();
const DAY = 86_400_000;

describe('wall-clock time in a zone to an instant', () => {
  const cases: [string, string, string, string][] = [
    ['winter in Brussels', '2027-11-09T10:00', 'Europe/Brussels', '2027-11-09T09:00:00Z'],
    ['summer in Brussels', '2027-06-09T10:00', 'Europe/Brussels', '2027-06-09T08:00:00Z'],
    ['New York in winter', '2027-01-15T09:30', 'America/New_York', '2027-01-15T14:30:00Z'],
    ['Tokyo, no DST', '2027-03-28T02:30', 'Asia/Tokyo', '2027-03-27T17:30:00Z'],
    [
      'the hour skipped in Europe moves forward',
      '2027-03-28T02:30',
      'Europe/Brussels',
      '2027-03-28T01:30:00Z',
    ],
    [
      'the hour skipped in North America moves forward',
      '2027-03-14T02:30',
      'America/New_York',
      '2027-03-14T07:30:00Z',
    ],
    [
      'the hour repeated in Europe is the first one',
      '2027-10-31T02:30',
      'Europe/Brussels',
      '2027-10-31T00:30:00Z',
    ],
    [
      'the hour repeated in North America is the first one',
      '2027-11-07T01:30',
      'America/New_York',
      '2027-11-07T05:30:00Z',
    ],
  ];
  for (const [what, wall, tz, expected] of cases) {
    it(what, () => expect(fromZoned(local(wall), tz).toISOString()).toBe(utc(expected)));
  }

  it('round-trips every hour of a year with both clock changes, in both zones', () => {
    for (const tz of ['Europe/Brussels', 'America/Los_Angeles']) {
      for (let t = Date.UTC(2027, 0, 1); t < Date.UTC(2028, 0, 1); t += 3_600_000) {
        const at = new Date(t);
        const back = fromZoned(toZoned(at, tz), tz);
        // Only the second of a repeated hour reads back as the first.
        expect(
          back.getTime() === t || back.getTime() === t - 3_600_000,
          `${tz} ${at.toISOString()}`,
        ).toBe(true);
      }
    }
  });

  it('honours an explicit offset over the zone', () => {
    expect(
      fromZoned(
        { ...local('2027-11-09T10:00'), offsetMinutes: 120 },
        'America/New_York',
      ).toISOString(),
    ).toBe(utc('2027-11-09T08:00:00Z'));
  });
});

describe('reminders before a session', () => {
  it('1d before a session on the day Europe springs forward is the same local time the day before', () => {
    // Clocks change at 01:00 UTC on 28 March 2027; the session is at 10:00 summer time that day.
    const session = fromZoned(local('2027-03-28T10:00'), 'Europe/Brussels');
    expect(session.toISOString()).toBe(utc('2027-03-28T08:00:00Z'));
    expect(reminderTime(session, 'Europe/Brussels', DAY).toISOString()).toBe(
      utc('2027-03-27T09:00:00Z'),
    );
    expect(reminderTime(session, 'Europe/Brussels', 7 * DAY).toISOString()).toBe(
      utc('2027-03-21T09:00:00Z'),
    );
    // Anything but whole days is an exact duration: 36h before is 20:00 UTC on the 26th.
    expect(reminderTime(session, 'Europe/Brussels', 36 * 3_600_000).toISOString()).toBe(
      utc('2027-03-26T20:00:00Z'),
    );
  });

  it('1d before a session just after North America falls back keeps the wall time', () => {
    const session = fromZoned(local('2027-11-08T09:00'), 'America/Chicago');
    expect(session.toISOString()).toBe(utc('2027-11-08T15:00:00Z'));
    expect(reminderTime(session, 'America/Chicago', DAY).toISOString()).toBe(
      utc('2027-11-07T15:00:00Z'),
    );
    expect(reminderTime(session, 'America/Chicago', 2 * DAY).toISOString()).toBe(
      utc('2027-11-06T14:00:00Z'),
    );
    expect(reminderTime(session, 'America/Chicago', 3_600_000).toISOString()).toBe(
      utc('2027-11-08T14:00:00Z'),
    );
  });

  it('a participant in another zone reads the same instant in their own time', () => {
    const session = fromZoned(local('2027-11-09T10:00'), 'Europe/Brussels');
    expect(formatInZone(session, 'Europe/Brussels')).toBe('Tue, 9 Nov 2027, 10:00 CET');
    expect(formatInZone(session, 'America/New_York')).toBe('Tue, 9 Nov 2027, 04:00 GMT-5');
    expect(formatInZone(session, 'Asia/Tokyo')).toBe('Tue, 9 Nov 2027, 18:00 GMT+9');
  });
});

describe('yearly sessions', () => {
  it('keep their local time across years whose DST differs', () => {
    const anchor = local('2027-03-29T10:00');
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2027).toISOString()).toBe(
      utc('2027-03-29T08:00:00Z'),
    );
    // 2026-03-29 is the day clocks change: 10:00 is already summer time.
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2026).toISOString()).toBe(
      utc('2026-03-29T08:00:00Z'),
    );
    // In 2029 clocks change on 25 March, so the 29th is summer time again.
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2029).toISOString()).toBe(
      utc('2029-03-29T08:00:00Z'),
    );
  });

  it('set on 29 February fall on the 28th in common years and come back in leap years', () => {
    const anchor = local('2028-02-29T10:00');
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2029).toISOString()).toBe(
      utc('2029-02-28T09:00:00Z'),
    );
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2031).toISOString()).toBe(
      utc('2031-02-28T09:00:00Z'),
    );
    expect(yearlyOccurrence(anchor, 'Europe/Brussels', 2032).toISOString()).toBe(
      utc('2032-02-29T09:00:00Z'),
    );
  });

  it('add calendar days in the zone, not 24-hour blocks', () => {
    const before = fromZoned(local('2027-10-30T12:00'), 'Europe/Brussels');
    expect(addLocalDays(before, 'Europe/Brussels', 1).toISOString()).toBe(
      utc('2027-10-31T11:00:00Z'),
    );
  });
});

describe('action item reminders', () => {
  const at = (iso: string) => new Date(iso);
  it('come at 09:00 owner time the day before, then every second day after the due date', () => {
    const due = '2027-03-29';
    const tz = 'Europe/Brussels';
    expect(nextActionReminder(due, tz, at('2027-03-01T00:00:00Z')).toISOString()).toBe(
      utc('2027-03-28T07:00:00Z'),
    );
    expect(nextActionReminder(due, tz, at('2027-03-28T07:00:00Z')).toISOString()).toBe(
      utc('2027-03-31T07:00:00Z'),
    );
    expect(nextActionReminder(due, tz, at('2027-03-31T07:00:00Z')).toISOString()).toBe(
      utc('2027-04-02T07:00:00Z'),
    );
  });

  it("use the owner's zone, across the clock change", () => {
    // 27 March is still winter time in Brussels (08:00 UTC); 28 March is summer time (07:00 UTC).
    expect(
      nextActionReminder('2027-03-28', 'Europe/Brussels', at('2027-03-01T00:00:00Z')).toISOString(),
    ).toBe(utc('2027-03-27T08:00:00Z'));
    expect(
      nextActionReminder(
        '2027-03-28',
        'America/New_York',
        at('2027-03-01T00:00:00Z'),
      ).toISOString(),
    ).toBe(utc('2027-03-27T13:00:00Z'));
  });

  it("count days in the owner's zone", () => {
    const now = at('2027-03-28T23:30:00Z'); // already the 29th in Tallinn, still the 28th in New York
    expect(daysUntil('2027-03-29', 'Europe/Tallinn', now)).toBe(0);
    expect(daysUntil('2027-03-29', 'America/New_York', now)).toBe(1);
    expect(daysUntil('2027-03-25', 'America/New_York', now)).toBe(-3);
  });
});
