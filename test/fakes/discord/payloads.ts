import { randomToken, snowflake } from './ids.js';
import { memberJson, messageJson } from './json.js';
import type { FakeContext } from './routes.js';
import { CHANNEL, type FakeChannel, type FakeUser } from './state.js';

/** A slash command as a person would issue it in Discord's client. */
export interface CommandInput {
  name: string;
  subcommand: string;
  /** Option values by name: strings, booleans, and user ids for user options. */
  options?: Record<string, string | boolean>;
  /** User id (default: alice). */
  user?: string;
  /** Channel id (default: #general). */
  channel?: string;
}

/** A press on a button of a message the bot posted. */
export interface ButtonInput {
  /** The message id. */
  message: string;
  /** Which button (default: the first). */
  customId?: string;
  user?: string;
}

const ALL_PERMISSIONS = '2251799813685247';

function person(ctx: FakeContext, id: string | undefined): FakeUser {
  const user = id
    ? ctx.state.users.get(id)
    : [...ctx.state.users.values()].find((u) => u.username === 'alice');
  if (!user) throw new Error(`fake Discord: no user ${id}`);
  return user;
}

function place(ctx: FakeContext, id: string | undefined): FakeChannel {
  const channel = id
    ? ctx.state.channels.get(id)
    : [...ctx.state.channels.values()].find((c) => c.name === 'general');
  if (!channel) throw new Error(`fake Discord: no channel ${id}`);
  return channel;
}

/** What every interaction carries: who, where, the token, and the guild or DM context. */
function envelope(ctx: FakeContext, type: number, user: FakeUser, channel: FakeChannel) {
  const inGuild = channel.type !== CHANNEL.dm;
  return {
    id: snowflake(),
    application_id: ctx.applicationId,
    type,
    token: randomToken('interaction'),
    version: 1,
    channel_id: channel.id,
    channel: {
      id: channel.id,
      type: channel.type,
      ...(inGuild
        ? { guild_id: ctx.state.guild.id, name: channel.name, parent_id: channel.parent_id ?? null }
        : { recipients: [user] }),
      permissions: ALL_PERMISSIONS,
      flags: 0,
    },
    ...(inGuild
      ? {
          guild_id: ctx.state.guild.id,
          guild: { id: ctx.state.guild.id, locale: 'en-US', features: [] },
          member: { ...memberJson(user), permissions: ALL_PERMISSIONS },
          guild_locale: 'en-US',
        }
      : { user }),
    locale: 'en-GB',
    app_permissions: ALL_PERMISSIONS,
    entitlements: [],
    authorizing_integration_owners: inGuild ? { '0': ctx.state.guild.id } : { '1': user.id },
    context: inGuild ? 0 : 1,
    attachment_size_limit: 10_485_760,
  };
}

/**
 * INTERACTION_CREATE for a slash command. Like Discord's client it only offers what the bot
 * registered: an unknown command, subcommand, option or choice, or a missing required option,
 * throws here instead of reaching the bot.
 */
export function commandPayload(ctx: FakeContext, input: CommandInput): Record<string, unknown> {
  const command = ctx.state.commands.find((c) => c.name === input.name);
  if (!command) throw new Error(`fake Discord: /${input.name} is not registered`);
  const sub = command.options.find((o) => o.type === 1 && o.name === input.subcommand);
  if (!sub) throw new Error(`fake Discord: /${input.name} has no subcommand ${input.subcommand}`);
  const users: Record<string, FakeUser> = {};
  const options = Object.entries(input.options ?? {}).map(([name, value]) => {
    const spec = sub.options?.find((o) => o.name === name);
    if (!spec) throw new Error(`fake Discord: /${input.name} ${sub.name} has no option ${name}`);
    if (spec.type === 6) {
      const user = person(ctx, String(value));
      users[user.id] = user;
    } else if (spec.type === 5 && typeof value !== 'boolean') {
      throw new Error(`fake Discord: ${name} takes true or false`);
    } else if (spec.choices && !spec.choices.some((c) => c.value === value)) {
      throw new Error(`fake Discord: ${name} must be one of the registered choices`);
    }
    return { name, type: spec.type, value };
  });
  for (const required of sub.options?.filter((o) => o.required) ?? []) {
    if (!(required.name in (input.options ?? {})))
      throw new Error(`fake Discord: ${required.name} is required`);
  }
  const resolved = Object.keys(users).length
    ? {
        resolved: {
          users,
          members: Object.fromEntries(
            Object.values(users).map((u) => [u.id, { ...memberJson(u), user: undefined }]),
          ),
        },
      }
    : {};
  return {
    ...envelope(ctx, 2, person(ctx, input.user), place(ctx, input.channel)),
    data: {
      id: command.id,
      name: command.name,
      type: 1,
      guild_id: ctx.state.guild.id,
      options: [{ type: 1, name: sub.name, options }],
      ...resolved,
    },
  };
}

/** INTERACTION_CREATE for a button press; only buttons that exist on the message can be pressed. */
export function buttonPayload(ctx: FakeContext, input: ButtonInput): Record<string, unknown> {
  const message = ctx.state.messages.get(input.message);
  if (!message) throw new Error(`fake Discord: no message ${input.message}`);
  const buttons = message.components.flatMap(
    (row) => (row as { components?: { type: number; custom_id?: string }[] }).components ?? [],
  );
  const button = input.customId
    ? buttons.find((b) => b.custom_id === input.customId)
    : buttons.find((b) => b.type === 2);
  if (!button?.custom_id) throw new Error('fake Discord: no such button on that message');
  return {
    ...envelope(ctx, 3, person(ctx, input.user), place(ctx, message.channel_id)),
    message: messageJson(ctx.state, message),
    data: { component_type: 2, custom_id: button.custom_id },
  };
}
