import { usageError } from '../errors.js';

/**
 * A user as written in a command: `<@U123|name>` (Slack), `<@123>` (Discord), `@handle`
 * (the directory handle, on any platform).
 */
export interface Mention {
  kind: 'slack' | 'discord' | 'handle';
  id: string;
  /** The name Slack puts after `|`, when it does. */
  label?: string;
  raw: string;
}

/** A wall-clock time as written, before a zone gives it an instant. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Minutes east of UTC when the text carried `Z` or `+02:00`. */
  offsetMinutes?: number;
}

/** A time as written for `when` options: a wall-clock time, or `+90s` from now. */
export type When = { at: LocalDateTime } | { inMs: number };

/** `2027-11-09T10:00` (read in a zone later) or `+15m`, `+2h`, `+7d` from now. */
export function parseWhen(text: string): When {
  const trimmed = text.trim();
  if (trimmed.startsWith('+')) return { inMs: parseDuration(trimmed.slice(1)) };
  return { at: parseDateTime(trimmed) };
}

export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

const SLACK_MENTION = /^<@([UW][A-Z0-9]{2,20})(?:\|([^>]{1,80}))?>$/;
const DISCORD_MENTION = /^<@!?(\d{5,25})>$/;
const HANDLE_MENTION = /^@([A-Za-z0-9][A-Za-z0-9._-]{0,39})$/;

export const HANDLE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,39}$/;
export const ORG_CODE_PATTERN = /^[A-Z0-9]{2,10}$/;
export const CAPABILITY_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function parseMention(text: string): Mention {
  const slack = SLACK_MENTION.exec(text);
  if (slack?.[1]) {
    return { kind: 'slack', id: slack[1], raw: text, ...(slack[2] ? { label: slack[2] } : {}) };
  }
  const discord = DISCORD_MENTION.exec(text);
  if (discord?.[1]) return { kind: 'discord', id: discord[1], raw: text };
  const handle = HANDLE_MENTION.exec(text);
  if (handle?.[1]) return { kind: 'handle', id: handle[1].toLowerCase(), raw: text };
  throw usageError(
    `"${clip(text)}" is not a user: write <@U123> on Slack, <@123> on Discord or @handle`,
  );
}

export function parseOrgCode(text: string): string {
  const code = text.toUpperCase();
  if (!ORG_CODE_PATTERN.test(code)) {
    throw usageError(
      `"${clip(text)}" is not an organisation code: 2 to 10 letters or digits, like EST or ACME`,
    );
  }
  return code;
}

export function parseCapability(text: string): string {
  const tag = text.toLowerCase();
  if (!CAPABILITY_PATTERN.test(tag)) {
    throw usageError(
      `"${clip(text)}" is not a capability tag: lowercase letters, digits and dashes, like incident-response`,
    );
  }
  return tag;
}

const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest duration Concord accepts: ten years. */
export const MAX_DURATION_MS = 3650 * UNIT_MS.d;

/** `90s`, `15m`, `2h`, `7d` to milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim().toLowerCase());
  const amount = Number(m?.[1]);
  const unit = m?.[2] as keyof typeof UNIT_MS | undefined;
  if (!unit || !(amount > 0)) {
    throw usageError(
      `"${clip(text)}" is not a duration: a number and s, m, h or d, like 90s, 15m, 2h, 7d`,
    );
  }
  const ms = amount * UNIT_MS[unit];
  if (ms > MAX_DURATION_MS) throw usageError(`"${clip(text)}" is longer than ten years`);
  return ms;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/i;

const daysInMonth = (year: number, month: number) =>
  new Date(Date.UTC(year, month, 0)).getUTCDate();

function checkDate(text: string, year: number, month: number, day: number): void {
  if (
    year < 1970 ||
    year > 9999 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month)
  ) {
    throw usageError(`"${clip(text)}" is not a real date`);
  }
}

/** ISO 8601 date, `2027-11-09`. */
export function parseDate(text: string): LocalDate {
  const m = DATE.exec(text.trim());
  if (!m) throw usageError(`"${clip(text)}" is not a date: write 2027-11-09`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  checkDate(text, year, month, day);
  return { year, month, day };
}

/** ISO 8601 date and time, `2027-11-09T10:00`, optionally with seconds and `Z` or an offset. */
export function parseDateTime(text: string): LocalDateTime {
  const m = DATE_TIME.exec(text.trim());
  if (!m) throw usageError(`"${clip(text)}" is not a date and time: write 2027-11-09T10:00`);
  const [year, month, day, hour, minute] = [1, 2, 3, 4, 5].map((i) => Number(m[i])) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] ? Number(m[6]) : 0;
  checkDate(text, year, month, day);
  if (hour > 23 || minute > 59 || second > 59)
    throw usageError(`"${clip(text)}" is not a real time of day`);
  const result: LocalDateTime = { year, month, day, hour, minute, second };
  const zone = m[7];
  if (zone) {
    if (zone.toUpperCase() === 'Z') result.offsetMinutes = 0;
    else {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const hours = Number(digits.slice(0, 2));
      const minutes = Number(digits.slice(2));
      if (hours > 14 || minutes > 59) throw usageError(`"${clip(text)}" has no such UTC offset`);
      result.offsetMinutes = sign * (hours * 60 + minutes);
    }
  }
  return result;
}

/** An IANA time zone, returned in its canonical spelling (`europe/tallinn` → `Europe/Tallinn`). */
export function parseZone(text: string): string {
  if (/^[+-]/.test(text) || text.length > 64)
    throw usageError(`"${clip(text)}" is not a time zone: use an IANA name like Europe/Brussels`);
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone: text }).resolvedOptions().timeZone;
  } catch {
    throw usageError(`"${clip(text)}" is not a time zone: use an IANA name like Europe/Brussels`);
  }
}

export function parseBoolean(text: string): boolean {
  const v = text.toLowerCase();
  if (['true', 'yes', 'on'].includes(v)) return true;
  if (['false', 'no', 'off'].includes(v)) return false;
  throw usageError(`"${clip(text)}" is not true or false`);
}

/** Splits `a,b, c` for the list types; empty items are an error, not silently dropped. */
export function splitList(text: string, what: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === ''))
    throw usageError(`"${clip(text)}" has an empty item in its list of ${what}`);
  return items;
}

/** Keeps echoes of user input short in one-line errors. */
export function clip(text: string, max = 40): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
