import { dateTimeFormat } from '../time/formatter.js';

/** `14:02` in the given zone: shows whether a contact is likely awake. */
export function localClock(at: Date, tz: string): string {
  return dateTimeFormat('clock', 'en-GB', tz, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at);
}

/** `2026-10-01` in the given zone. */
export function isoDate(at: Date, tz = 'UTC'): string {
  return dateTimeFormat('date', 'en-CA', tz, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** `today`, `yesterday`, `12 days ago`, `3 months ago`. */
export function daysAgo(then: Date, now: Date): string {
  const days = Math.floor((now.getTime() - then.getTime()) / 86_400_000);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days < 60) return `${days} days ago`;
  const months = Math.floor(days / 30.44);
  if (months < 24) return `${months} months ago`;
  return `${Math.floor(days / 365.25)} years ago`;
}

export const rankName = (rank: number) => (rank === 0 ? 'primary' : `backup ${rank}`);

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
