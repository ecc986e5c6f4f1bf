import type {
  CommandRegistry,
  CommandSpec,
  OptionSpec,
  OptionType,
  SubcommandSpec,
} from '../../src/commands/spec.js';
import { clipText } from './render.js';

/**
 * Both directions between our command specs and Discord's application commands: each spec
 * becomes a guild chat-input command whose subcommands carry typed options, and an interaction's
 * options become the command line our parser reads, `/poc who forensics org:ACME`.
 */

/** Discord's option types that Concord uses. */
export const OPTION_TYPE = { subcommand: 1, string: 3, boolean: 5, user: 6 } as const;

/** An application command option as Discord's API takes it. */
export interface CommandOptionJson {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string }[];
  options?: CommandOptionJson[];
}

/** A chat-input (slash) command as Discord's API takes it. */
export interface CommandJson {
  type: 1;
  name: string;
  description: string;
  options: CommandOptionJson[];
}

const NAME = /^[-_a-z0-9]{1,32}$/;
const DESCRIPTION = 100;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;

// Shown after the description where it fits, since Discord shows every option as a text box.
const HINTS: Partial<Record<OptionType, string>> = {
  users: '<@a>,<@b>',
  orgs: 'EST,DEU',
  datetime: '2027-11-09T10:00',
  when: '2027-11-09T10:00 or +2h',
  date: '2027-11-09',
  zone: 'Europe/Tallinn',
  duration: '90s, 15m, 2h, 7d',
  durations: '30d,7d,1d',
};

function describe(text: string, type?: OptionType): string {
  const base = text.trim() || 'no description';
  const hint = type ? HINTS[type] : undefined;
  const hinted = hint ? `${base} (e.g. ${hint})` : base;
  return clipText(hinted.length <= DESCRIPTION ? hinted : base, DESCRIPTION);
}

function checkName(name: string, where: string): string {
  if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a valid Discord command name`);
  return name;
}

function optionJson(option: OptionSpec, where: string): CommandOptionJson {
  const json: CommandOptionJson = {
    type:
      option.type === 'user'
        ? OPTION_TYPE.user
        : option.type === 'boolean'
          ? OPTION_TYPE.boolean
          : OPTION_TYPE.string,
    name: checkName(option.name, where),
    description: describe(option.description, option.type),
    required: option.required === true,
  };
  // More than 25 choices do not fit Discord's picker; the parser still checks the value.
  if (option.type === 'enum' && option.choices && option.choices.length <= MAX_CHOICES)
    json.choices = option.choices.map((c) => ({ name: clipText(c, 100), value: c }));
  return json;
}

function subcommandJson(spec: CommandSpec, sub: SubcommandSpec): CommandOptionJson {
  const where = `/${spec.name} ${sub.name}`;
  // The free-text part is an option named after it; Discord wants required options first.
  const all = [...(sub.positional ? [sub.positional] : []), ...sub.options];
  const options = [...all.filter((o) => o.required), ...all.filter((o) => !o.required)].map((o) =>
    optionJson(o, where),
  );
  if (options.length > MAX_OPTIONS) throw new Error(`${where}: more than ${MAX_OPTIONS} options`);
  if (new Set(options.map((o) => o.name)).size !== options.length)
    throw new Error(`${where}: two options share a name`);
  return {
    type: OPTION_TYPE.subcommand,
    name: checkName(sub.name, where),
    description: describe(sub.summary),
    options,
  };
}

/** The body of PUT /applications/{app}/guilds/{guild}/commands: one command per spec. */
export function applicationCommands(registry: CommandRegistry): CommandJson[] {
  return registry.commands.map((spec) => {
    if (spec.subcommands.length > MAX_OPTIONS)
      throw new Error(`/${spec.name}: more than ${MAX_OPTIONS} subcommands`);
    return {
      type: 1,
      name: checkName(spec.name, `/${spec.name}`),
      description: describe(spec.summary),
      options: spec.subcommands.map((sub) => subcommandJson(spec, sub)),
    };
  });
}

/** An option of an incoming chat-input interaction (`data.options`). */
export interface InteractionOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: InteractionOption[];
}

const OPTION_KEY = /^[a-z][a-z0-9-]*:/;
// Also a value starting with `//`: the tokenizer reads `key://…` as a URL, not as an option.
const NEEDS_QUOTES = /[\s"“”„\\]|^$|^\/\//;

/** A value as our tokenizer reads it back: quoted (with `\` escapes) when it would not survive bare. */
export function quoteValue(text: string): string {
  if (!NEEDS_QUOTES.test(text) && !OPTION_KEY.test(text)) return text;
  return `"${text.replace(/[\\"“”]/g, (c) => `\\${c}`)}"`;
}

function valueText(option: InteractionOption): string {
  if (option.type === OPTION_TYPE.user) return `<@${String(option.value)}>`;
  return quoteValue(String(option.value ?? ''));
}

/**
 * Rebuilds the line our parser reads from a chat-input interaction:
 * `/<command> <sub> <positional> key:value key:"two words"`, user options as `<@id>`. Options the
 * spec no longer knows are kept, so the parser answers with its usual one-line reason.
 */
export function commandLine(
  data: { name: string; options?: InteractionOption[] },
  registry: CommandRegistry,
): string {
  const parts = [`/${data.name}`];
  const sub = data.options?.find((o) => o.type === OPTION_TYPE.subcommand);
  if (!sub) return parts.join(' ');
  parts.push(sub.name);
  const given = new Map((sub.options ?? []).map((o) => [o.name, o]));
  const subSpec = registry.find(data.name)?.subcommands.find((s) => s.name === sub.name);
  const positional = subSpec?.positional?.name;
  const first = positional ? given.get(positional) : undefined;
  if (positional && first) {
    parts.push(valueText(first));
    given.delete(positional);
  }
  const order = subSpec?.options.map((o) => o.name) ?? [];
  const rest = [...given.values()].sort(
    (a, b) =>
      (order.indexOf(a.name) + 1 || Number.MAX_SAFE_INTEGER) -
      (order.indexOf(b.name) + 1 || Number.MAX_SAFE_INTEGER),
  );
  for (const option of rest) parts.push(`${option.name}:${valueText(option)}`);
  return parts.join(' ');
}
