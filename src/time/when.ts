import type { When } from '../commands/values.js';
import { fromZoned } from './zoned.js';

/** The instant a `when` value names: `+2h` from `now`, or a wall-clock time read in `tz`. */
export function resolveWhen(when: When, tz: string, now: Date): Date {
  return 'inMs' in when ? new Date(now.getTime() + when.inMs) : fromZoned(when.at, tz);
}
