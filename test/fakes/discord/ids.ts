import { randomBytes } from 'node:crypto';

// Discord's epoch (2015-01-01). Real snowflakes matter: discord.js only treats 17–19 digit ids as
// a route's major parameter, so toy ids like `1` would put every channel in one rate-limit queue.
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A fresh, time-ordered snowflake id like Discord's (18–19 digits). */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}

/** An opaque interaction or session token. */
export function randomToken(prefix: string): string {
  return `${prefix}.${randomBytes(24).toString('base64url')}`;
}
