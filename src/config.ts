import { z } from 'zod';

const PLATFORMS = ['slack', 'discord', 'shell'] as const;
export type Platform = (typeof PLATFORMS)[number];

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      `expected a ${protocols.map((p) => `${p}//`).join(' or ')} URL`,
    );

const optionalUrl = (protocols: string[]) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    url(protocols).optional(),
  );

const adminList = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const admins: string[] = [];
    for (const raw of (v ?? '').split(',')) {
      const item = raw.trim();
      if (!item) continue;
      const [platform, id, extra] = item.split(':');
      if (!platform || !id || extra !== undefined || !PLATFORMS.includes(platform as Platform)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${item}" is not platform:userId with platform one of ${PLATFORMS.join(', ')}`,
        });
        return z.NEVER;
      }
      admins.push(`${platform}:${id}`);
    }
    return admins;
  });

/** Design section 5, as one schema. Read once at start by `loadConfig`. */
export const Config = z
  .object({
    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    REDIS_URL: optionalUrl(['redis:', 'rediss:', 'unix:']),
    CONCORD_DATA_DIR: z.string().trim().min(1).default('.concord'),
    CONCORD_ADMINS: adminList,
    // Blank means unset, as for every other variable: `PORT=` must not bind a random port.
    PORT: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z.coerce
        .number({ message: 'expected a port number' })
        .int('expected a whole port number')
        .min(0)
        .max(65535)
        .default(3000),
    ),
    // Where the HTTP server listens: unset, every interface when a chat platform must reach it,
    // else only this machine (the shell needs no one else to call in).
    HOST: optionalText,
    // Commands a minute each person on Slack or Discord may send (0: no limit); see command-rate.ts.
    CONCORD_COMMANDS_PER_MINUTE: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z.coerce
        .number({ message: 'expected a number of commands a minute' })
        .int('expected a whole number of commands a minute')
        .min(0)
        .default(30),
    ),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    SLACK_BOT_TOKEN: optionalText,
    SLACK_SIGNING_SECRET: optionalText,
    SLACK_API_URL: optionalUrl(['http:', 'https:']),
    DISCORD_BOT_TOKEN: optionalText,
    DISCORD_APPLICATION_ID: optionalText,
    DISCORD_GUILD_ID: optionalText,
    DISCORD_PUBLIC_KEY: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, 'expected the 64 hex characters of an Ed25519 public key')
        .optional(),
    ),
    DISCORD_API_URL: optionalUrl(['http:', 'https:']),
  })
  .superRefine((env, ctx) => {
    const groups: [string, string[]][] = [
      ['Slack', ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET']],
      ['Discord', ['DISCORD_BOT_TOKEN', 'DISCORD_APPLICATION_ID', 'DISCORD_GUILD_ID']],
    ];
    for (const [name, keys] of groups) {
      const set = keys.filter((k) => env[k as keyof typeof env] !== undefined);
      if (set.length > 0 && set.length < keys.length) {
        for (const missing of keys.filter((k) => !set.includes(k))) {
          ctx.addIssue({
            code: 'custom',
            path: [missing],
            message: `must be set too: the ${name} adapter needs ${keys.join(', ')}`,
          });
        }
      }
    }
  });
export type Config = z.infer<typeof Config>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The one place environment variables become configuration. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const result = Config.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join('.') || 'environment';
    const secret = /TOKEN|SECRET|KEY|URL/.test(key);
    const value = env[key];
    const shown = value === undefined || secret ? '' : ` (got "${value}")`;
    return `${key}: ${issue.message}${shown}`;
  });
  throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
}

export const slackEnabled = (c: Config) => Boolean(c.SLACK_BOT_TOKEN && c.SLACK_SIGNING_SECRET);
export const discordEnabled = (c: Config) =>
  Boolean(c.DISCORD_BOT_TOKEN && c.DISCORD_APPLICATION_ID && c.DISCORD_GUILD_ID);
