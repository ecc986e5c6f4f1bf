import fc from 'fast-check';
import { commandLine, type InteractionOption } from '../../../adapters/discord/commands.js';
import { tokenize } from '../../../src/commands/tokenize.js';
import { ACCEPT, ACKNOWLEDGE, CLOSE, DECLINE } from '../../../src/domain/routing/cards.js';
import {
  anyValidTokens,
  mutatedLine,
  REGISTRY,
  randomLine,
  type TextWorld,
} from './command-text.js';
import { hostileToken, notAnAction } from './hostile.js';
import {
  type ByteMutation,
  byteMutation,
  deeplyNested,
  mutateBytes,
  mutateTree,
  type TreeMutation,
  treeMutation,
} from './mutate.js';
import { memberKind, outsiderLine } from './speakers.js';

/**
 * The interactions Discord posts to `/discord/interactions`, as it sends them and mutated: slash
 * commands (options trees built from command lines), button presses, interaction types Concord
 * does not take, bodies nested deep, and garbage. Who speaks in them is said in
 * discord-requests.ts.
 */

export interface DiscordWorld extends TextWorld {
  applicationId: string;
  guildId: string;
  memberId: string;
  /** Channels the fuzz may name: none is an incident's channel. */
  channels: string[];
  /** Guild users in no directory. */
  outsiders: string[];
  /** Discord users who may answer a routing (see World.answerers), with its id. */
  pressers: { userId: string; routingId: number }[];
}

const snowflake = fc.bigInt({ min: 100_000_000_000_000_000n, max: 1_500_000_000_000_000_000n });
const outsider = (w: DiscordWorld) =>
  fc.oneof(
    w.outsiders.length ? fc.constantFrom(...w.outsiders) : fc.constant('1'),
    snowflake.map(String),
  );
const channel = (w: DiscordWorld) =>
  fc.oneof(fc.constantFrom(...w.channels), snowflake.map(String));

/** The options tree Discord sends for a command line (its inverse is `commandLine`). */
export function lineToData(line: string): { name: string; options: InteractionOption[] } {
  const trimmed = line.trim();
  const name = (/^\/(\S*)/.exec(trimmed)?.[1] ?? trimmed).toLowerCase();
  const rest = trimmed.replace(/^\/\S*\s*/, '');
  const spec = REGISTRY.find(name);
  let tokens: { text: string; key?: string }[];
  try {
    tokens = tokenize(rest);
  } catch {
    tokens = [{ text: rest }];
  }
  const first = tokens[0];
  const sub = first && first.key === undefined ? first.text.toLowerCase() : '';
  const subSpec = spec?.subcommands.find((s) => s.name === sub);
  const after = subSpec ? tokens.slice(1) : tokens;
  const options: InteractionOption[] = [];
  const free = after.filter((t) => t.key === undefined).map((t) => t.text);
  if (free.length) {
    const positional = subSpec?.positional;
    const user = positional?.type === 'user' ? /^<@!?(\d+)>$/.exec(free[0] ?? '')?.[1] : undefined;
    options.push({
      name: positional?.name ?? 'text',
      type: user ? 6 : 3,
      value: user ?? free.join(' '),
    });
  }
  for (const t of after) {
    if (t.key === undefined) continue;
    const option = subSpec?.options.find((o) => o.name === t.key);
    const user = option?.type === 'user' ? /^<@!?(\d+)>$/.exec(t.text)?.[1] : undefined;
    const bool = option?.type === 'boolean' ? t.text === 'true' || t.text === 'yes' : undefined;
    options.push({
      name: t.key,
      type: user ? 6 : bool !== undefined ? 5 : 3,
      value: user ?? bool ?? t.text,
    });
  }
  return { name, options: [{ name: subSpec?.name ?? (sub || 'x'), type: 1, options }] };
}

function interaction(
  w: DiscordWorld,
  type: number,
  user: string,
  channelId: string,
  data: unknown,
  extra: Record<string, unknown> = {},
) {
  return {
    id: `9FZSEQFZ`,
    application_id: w.applicationId,
    type,
    token: `fuzz-token-FZSEQFZ`,
    version: 1,
    channel_id: channelId,
    channel: { id: channelId, type: 0, guild_id: w.guildId, name: 'fuzz', parent_id: null },
    guild_id: w.guildId,
    member: {
      user: { id: user, username: 'fuzzer', global_name: 'Fuzzer' },
      nick: null,
      roles: [],
      permissions: '2251799813685247',
    },
    locale: 'en-GB',
    app_permissions: '2251799813685247',
    entitlements: [],
    context: 0,
    data,
    ...extra,
  };
}

// Many cases unmutated or nearly so, to get past the first check that a mangled case fails.
const mutations = fc.oneof(
  { weight: 2, arbitrary: fc.constant([] as TreeMutation[]) },
  { weight: 3, arbitrary: fc.array(treeMutation, { minLength: 1, maxLength: 3 }) },
);
const bytes = fc.oneof(
  { weight: 4, arbitrary: fc.constant([] as ByteMutation[]) },
  { weight: 1, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 2 }) },
);

const commandData = (name: string, options: InteractionOption[], id = '1') => ({
  id,
  name,
  type: 1,
  options,
});

/** The line the adapter will hand the core for this payload, or undefined if none. */
export function rebuiltLine(payload: unknown): string | undefined {
  const data = (payload as { data?: { name?: unknown; options?: unknown } } | null)?.data;
  if (!data || typeof data.name !== 'string' || !data.name) return undefined;
  try {
    return commandLine(
      { name: data.name, options: data.options as InteractionOption[] | undefined },
      REGISTRY,
    );
  } catch {
    return undefined;
  }
}

export const commandBody = (w: DiscordWorld) =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(outsiderLine(w), outsider(w), channel(w), mutations, bytes)
        .map(([line, user, where, tree, raw]) => {
          const { name, options } = lineToData(line);
          const payload = mutateTree(
            interaction(w, 2, user, where, commandData(name, options)),
            tree,
          );
          return {
            label: 'command:outsider',
            body: mutateBytes(Buffer.from(JSON.stringify(payload)), raw),
          };
        }),
    },
    {
      weight: 2,
      // The member's mutations reach only the data (never who is speaking), and the line the
      // adapter rebuilds from them must not be one that writes.
      arbitrary: fc
        .tuple(
          fc.oneof(
            mutatedLine(w),
            anyValidTokens(w).map((t) => t.join(' ')),
            randomLine,
          ),
          channel(w),
          mutations,
        )
        .map(([line, where, tree]) => {
          const { name, options } = lineToData(line);
          return { where, data: mutateTree(commandData(name, options), tree) };
        })
        .filter(({ data }) => {
          const line = rebuiltLine({ data });
          return line === undefined || memberKind(line) !== 'writer';
        })
        .map(({ where, data }) => ({
          label: 'command:member',
          member: true,
          body: Buffer.from(JSON.stringify(interaction(w, 2, w.memberId, where, data))),
        })),
    },
  );

const customId = (w: DiscordWorld) =>
  fc
    .tuple(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(ACCEPT, DECLINE, ACKNOWLEDGE, CLOSE) },
        hostileToken,
      ),
      fc.oneof(
        fc.constantFrom(...w.routingIds.map(String), ...w.requestRefs, '0', '-1', ''),
        fc.integer({ min: -5, max: 100_000 }).map(String),
        hostileToken,
      ),
      fc.constantFrom('|', '|', '|', '', '||'),
    )
    .map(([action, value, bar]) => `${action}${bar}${value}`);

export const buttonBody = (w: DiscordWorld) =>
  fc
    .tuple(outsider(w), channel(w), customId(w), snowflake, mutations, bytes)
    .map(([user, where, id, message, tree, raw]) => {
      const payload = interaction(
        w,
        3,
        user,
        where,
        { component_type: 2, custom_id: id },
        { message: { id: String(message), channel_id: where, content: '', components: [] } },
      );
      return {
        label: 'button',
        body: mutateBytes(Buffer.from(JSON.stringify(mutateTree(payload, tree))), raw),
      };
    });

// Someone who may answer a routing presses a button on it that is no real action: nothing may
// change.
export const falseButtonBody = (w: DiscordWorld) =>
  fc
    .tuple(fc.constantFrom(...w.pressers), channel(w), notAnAction, snowflake)
    .map(([{ userId, routingId }, where, action, message]) => ({
      label: 'button:answerer',
      body: Buffer.from(
        JSON.stringify(
          interaction(
            w,
            3,
            userId,
            where,
            { component_type: 2, custom_id: `${action.replaceAll('|', '')}|${routingId}` },
            { message: { id: String(message), channel_id: where, content: '', components: [] } },
          ),
        ),
      ),
    }));

export const otherBody = (w: DiscordWorld) =>
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom<unknown>(1, 4, 5, 0, 6, 99, -1, '2', 2.5, null),
        fc.integer({ min: -10, max: 300 }),
      ),
      outsider(w),
      channel(w),
      mutations,
    )
    .map(([type, user, where, tree]) => ({
      label: `type:${String(type)}`,
      body: Buffer.from(
        JSON.stringify(
          mutateTree(
            { ...interaction(w, 0, user, where, { custom_id: 'x', name: 'concord' }), type },
            tree,
          ),
        ),
      ),
    }));

export const garbageBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ label: 'garbage:bytes', body: b })),
  },
  {
    weight: 8,
    arbitrary: fc
      .json({ maxDepth: 3 })
      .map((s) => ({ label: 'garbage:json', body: Buffer.from(s) })),
  },
  {
    weight: 8,
    arbitrary: fc
      .constantFrom(
        '',
        '{}',
        '[]',
        'null',
        '1',
        '"x"',
        '{"type":1}',
        '{"type":2}',
        '{"id":"1","token":"t","type":2}',
        '{"id":"1","token":"t","type":2,"member":{"user":{}},"channel_id":"1","data":{"name":"concord","options":{}}}',
        '{"id":"1","token":"t","type":3,"user":{"id":"1"},"channel_id":"1","data":{"custom_id":7},"message":{"id":"1"}}',
        '{"__proto__":{"type":1}}',
      )
      .map((s) => ({ label: 'garbage:edge', body: Buffer.from(s) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1_000, 5_000, 20_000).map((depth) => ({
      label: `deep:${depth}`,
      body: Buffer.from(
        `{"id":"9FZSEQFZ","token":"t","type":2,"user":{"id":"1"},"channel_id":"1","data":{"name":"concord","options":${deeplyNested(depth, '{"name":"help","type":1}')}}}`,
      ),
    })),
  },
);
