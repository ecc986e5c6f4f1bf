import { dispatchChannel } from './events.js';
import { snowflake } from './ids.js';
import { channelJson } from './json.js';
import {
  DiscordApiError,
  type FakeContext,
  INVALID_FORM,
  objectBody,
  ok,
  type RouteDef,
  UNKNOWN_USER,
} from './routes.js';
import {
  addTextChannel,
  CHANNEL,
  type FakeCommand,
  type FakeCommandOption,
  type FakeOverwrite,
  isThreadType,
} from './state.js';

const UNKNOWN_GUILD = () => new DiscordApiError(404, 10004, 'Unknown Guild');
const NAME = /^[-_\p{L}\p{N}]{1,32}$/u;

function guildOf(ctx: FakeContext, guildId: string | undefined) {
  if (guildId !== ctx.state.guild.id) throw UNKNOWN_GUILD();
  return ctx.state.guild;
}

/** Overwrites as Discord stores them: bitfields as decimal strings. */
export function readOverwrite(ctx: FakeContext, raw: unknown, id?: string): FakeOverwrite {
  const o = objectBody(raw);
  const target = id ?? String(o.id ?? '');
  const type = o.type;
  if (type !== 0 && type !== 1) throw INVALID_FORM('overwrite type must be 0 (role) or 1 (member)');
  if (type === 0 && target !== ctx.state.guild.id)
    throw new DiscordApiError(404, 10011, 'Unknown Role');
  if (type === 1 && !ctx.state.users.has(target)) throw UNKNOWN_USER();
  const bits = (v: unknown) => {
    if (v === undefined || v === null) return '0';
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return String(v);
    throw INVALID_FORM('allow and deny are permission bitfields');
  };
  return { id: target, type, allow: bits(o.allow), deny: bits(o.deny) };
}

function readCommandOption(raw: unknown, depth: number): FakeCommandOption {
  const o = objectBody(raw);
  const name = String(o.name ?? '');
  const description = String(o.description ?? '');
  if (!NAME.test(name) || name !== name.toLowerCase()) throw INVALID_FORM(`option name "${name}"`);
  if (description.length < 1 || description.length > 100)
    throw INVALID_FORM(`description of ${name} must be 1–100 characters`);
  const options = Array.isArray(o.options)
    ? o.options.map((sub) => readCommandOption(sub, depth + 1))
    : undefined;
  if (options && options.length > 25) throw INVALID_FORM(`${name} has more than 25 options`);
  if (options) {
    // Discord refuses a required option after an optional one.
    const firstOptional = options.findIndex((x) => !x.required);
    if (firstOptional >= 0 && options.slice(firstOptional).some((x) => x.required))
      throw INVALID_FORM(`${name}: required options must come before optional ones`);
  }
  if (depth > 2) throw INVALID_FORM('options nest at most two levels');
  return {
    type: Number(o.type),
    name,
    description,
    ...(o.required === true ? { required: true } : {}),
    ...(Array.isArray(o.choices) ? { choices: o.choices as FakeCommandOption['choices'] } : {}),
    ...(options ? { options } : {}),
  };
}

/** Gateway discovery, the bot user, guild channels, application commands and DMs. */
export const guildRoutes: RouteDef[] = [
  {
    method: 'GET',
    template: '/gateway/bot',
    handle: (_req, ctx) =>
      ok({
        url: ctx.gatewayUrl,
        shards: 1,
        session_start_limit: {
          total: 1000,
          remaining: 999,
          reset_after: 14_400_000,
          max_concurrency: 1,
        },
      }),
  },
  {
    method: 'GET',
    template: '/users/@me',
    handle: (_req, ctx) => ok(ctx.state.bot),
  },
  {
    method: 'GET',
    template: '/guilds/{guild_id}/channels',
    handle: ({ params }, ctx) => {
      guildOf(ctx, params.guild_id);
      // As on Discord, the list holds the guild's channels but not its threads.
      const channels = [...ctx.state.channels.values()].filter(
        (c) => c.guild_id === ctx.state.guild.id && !isThreadType(c.type),
      );
      return ok(channels.map(channelJson));
    },
  },
  {
    method: 'POST',
    template: '/guilds/{guild_id}/channels',
    handle: ({ params, body }, ctx) => {
      guildOf(ctx, params.guild_id);
      const b = objectBody(body);
      const type = b.type === undefined || b.type === null ? CHANNEL.text : Number(b.type);
      if (![0, 2, 4, 5, 13, 15].includes(type)) throw INVALID_FORM(`channel type ${type}`);
      let name = typeof b.name === 'string' ? b.name : '';
      if (name.length < 1 || name.length > 100) throw INVALID_FORM('name must be 1–100 characters');
      // Discord itself lowercases text channel names and turns spaces into dashes.
      if (type === CHANNEL.text) name = name.toLowerCase().replace(/\s+/g, '-');
      const overwrites = Array.isArray(b.permission_overwrites)
        ? b.permission_overwrites.map((o) => readOverwrite(ctx, o))
        : [];
      const channel = addTextChannel(ctx.state, name, {
        type,
        topic: typeof b.topic === 'string' ? b.topic : null,
        permission_overwrites: overwrites,
      });
      dispatchChannel(ctx, 'create', channel);
      return { status: 201, body: channelJson(channel) };
    },
  },
  {
    method: 'GET',
    template: '/applications/{application_id}/guilds/{guild_id}/commands',
    handle: ({ params }, ctx) => {
      if (params.application_id !== ctx.applicationId)
        throw new DiscordApiError(404, 10002, 'Unknown Application');
      guildOf(ctx, params.guild_id);
      return ok(ctx.state.commands);
    },
  },
  {
    method: 'PUT',
    template: '/applications/{application_id}/guilds/{guild_id}/commands',
    handle: ({ params, body }, ctx) => {
      if (params.application_id !== ctx.applicationId)
        throw new DiscordApiError(403, 50001, 'Missing Access');
      guildOf(ctx, params.guild_id);
      if (!Array.isArray(body)) throw INVALID_FORM('expected an array of commands');
      if (body.length > 100) throw INVALID_FORM('at most 100 chat input commands');
      const version = snowflake();
      const commands: FakeCommand[] = body.map((raw) => {
        const parsed = readCommandOption({ type: 1, ...objectBody(raw) }, 0);
        const previous = ctx.state.commands.find((c) => c.name === parsed.name);
        return {
          id: previous?.id ?? snowflake(),
          application_id: ctx.applicationId,
          guild_id: ctx.state.guild.id,
          version,
          type: 1,
          name: parsed.name,
          description: parsed.description,
          options: parsed.options ?? [],
          default_member_permissions: null,
        };
      });
      if (new Set(commands.map((c) => c.name)).size !== commands.length)
        throw INVALID_FORM('command names must be unique');
      ctx.state.commands = commands;
      return ok(commands);
    },
  },
  {
    method: 'POST',
    template: '/users/@me/channels',
    handle: ({ body }, ctx) => {
      const recipientId = String(objectBody(body).recipient_id ?? '');
      const user = ctx.state.users.get(recipientId);
      if (!user) throw UNKNOWN_USER();
      const existing = [...ctx.state.channels.values()].find(
        (c) => c.type === CHANNEL.dm && c.recipients?.[0]?.id === user.id,
      );
      if (existing) return ok(channelJson(existing));
      const dm = {
        id: snowflake(),
        type: CHANNEL.dm,
        position: 0,
        permission_overwrites: [],
        last_message_id: null,
        recipients: [user],
      };
      ctx.state.channels.set(dm.id, dm);
      return ok(channelJson(dm));
    },
  },
];
