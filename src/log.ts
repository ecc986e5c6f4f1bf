import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

// Config values and request bodies pass through log calls; these never leave the process.
const REDACT = [
  '*.token',
  '*.SLACK_BOT_TOKEN',
  '*.SLACK_SIGNING_SECRET',
  '*.DISCORD_BOT_TOKEN',
  '*.DISCORD_PUBLIC_KEY',
  '*.DATABASE_URL',
  '*.REDIS_URL',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'req.headers.authorization',
];

/** Structured JSON logs on stderr, so a scripted shell's stdout holds only the bot's answers. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'concord' } },
    destination ?? pino.destination(2),
  );
}
