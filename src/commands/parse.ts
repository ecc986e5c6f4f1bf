import { ConcordError, usageError } from '../errors.js';
import { CommandInput, type OptionValue } from './input.js';
import type { CommandRegistry, CommandSpec, OptionSpec, SubcommandSpec } from './spec.js';
import { type Token, tokenize } from './tokenize.js';
import { commandUsage, usageLine } from './usage.js';
import {
  clip,
  parseBoolean,
  parseCapability,
  parseDate,
  parseDateTime,
  parseDuration,
  parseMention,
  parseOrgCode,
  parseWhen,
  parseZone,
  splitList,
} from './values.js';

/** The longest command line Concord reads; Slack's own limit is 4,000 characters. */
export const MAX_LINE_LENGTH = 4000;

export interface ParsedCommand {
  spec: CommandSpec;
  sub: SubcommandSpec;
  input: CommandInput;
}

/**
 * Reads one command line against the registry: either a parsed command or a `usage`
 * ConcordError carrying the one-line reason and the usage to show. Nothing else escapes.
 */
export function parseCommand(line: string, registry: CommandRegistry): ParsedCommand {
  if (line.length > MAX_LINE_LENGTH)
    throw usageError(`the command is longer than ${MAX_LINE_LENGTH} characters`);
  // Postgres text cannot hold NUL: a value carrying one failed in the database as an internal
  // error instead of a reason (found by the fuzz, test/fuzz).
  if (line.includes('\u0000')) throw usageError('the command contains a NUL character');
  const trimmed = line.trim();
  const names = registry.commands.map((c) => `/${c.name}`).join(', ');
  const head = /^\/([a-z][a-z0-9-]*)(?=\s|$)/i.exec(trimmed);
  if (!head?.[1]) {
    throw usageError(
      `a command starts with / and its name, one of ${names}`,
      '/concord help [command]',
    );
  }
  const spec = registry.find(head[1].toLowerCase());
  if (!spec)
    throw usageError(
      `unknown command /${clip(head[1], 20)}; the commands are ${names}`,
      '/concord help [command]',
    );

  let tokens: Token[];
  try {
    tokens = tokenize(trimmed.slice(head[0].length));
  } catch (error) {
    throw error instanceof ConcordError ? error.withUsage(commandUsage(spec)) : error;
  }
  const first = tokens[0];
  let sub =
    first && !first.quoted && first.key === undefined
      ? spec.subcommands.find((s) => s.name === first.text.toLowerCase())
      : undefined;
  if (sub) tokens.shift();
  else if (spec.defaultSubcommand)
    sub = spec.subcommands.find((s) => s.name === spec.defaultSubcommand);
  if (!sub) {
    const subs = spec.subcommands.map((s) => s.name).join(', ');
    const reason = first
      ? `unknown subcommand "${clip(first.key ? `${first.key}:${first.text}` : first.text, 20)}" for /${spec.name}; one of ${subs}`
      : `/${spec.name} needs a subcommand: one of ${subs}`;
    throw usageError(reason, commandUsage(spec));
  }
  const usage = usageLine(spec, sub);
  try {
    return { spec, sub, input: readArguments(spec, sub, tokens) };
  } catch (error) {
    throw error instanceof ConcordError ? error.withUsage(usage) : error;
  }
}

function readArguments(spec: CommandSpec, sub: SubcommandSpec, tokens: Token[]): CommandInput {
  const values = new Map<string, OptionValue>();
  const free: Token[] = [];
  for (const token of tokens) {
    if (token.key === undefined) {
      free.push(token);
      continue;
    }
    const option = sub.options.find((o) => o.name === token.key);
    if (!option) {
      const known = sub.options.map((o) => `${o.name}:`).join(' ');
      throw usageError(
        `unknown option ${token.key}: for /${spec.name} ${sub.name}${known ? ` (it takes ${known})` : ''}; quote text that contains a colon`,
      );
    }
    if (values.has(option.name)) throw usageError(`${option.name}: is given twice`);
    if (token.text.trim() === '') throw usageError(`${option.name}: needs a value`);
    values.set(option.name, readValue(option, token.text));
  }

  const positional = sub.positional;
  if (free.length > 0) {
    if (!positional) {
      throw usageError(
        `unexpected "${clip(free.map((t) => t.text).join(' '), 30)}": /${spec.name} ${sub.name} takes only key:value options`,
      );
    }
    if (positional.type === 'text') {
      const text = free
        .map((t) => t.text)
        .join(' ')
        .trim();
      if (text) values.set(positional.name, { type: 'string', value: text });
    } else {
      const [one, ...extra] = free;
      if (extra.length > 0) {
        throw usageError(
          `unexpected "${clip(extra.map((t) => t.text).join(' '), 30)}" after ${positional.name}`,
        );
      }
      if (one && one.text.trim() !== '')
        values.set(positional.name, readValue(positional, one.text));
    }
  }

  for (const option of positional ? [positional, ...sub.options] : sub.options) {
    if (option.required && !values.has(option.name)) {
      throw usageError(
        positional === option ? `missing ${option.name}` : `missing ${option.name}:`,
      );
    }
  }
  return new CommandInput(spec.name, sub.name, values);
}

function readValue(option: OptionSpec, raw: string): OptionValue {
  const text = raw.trim();
  switch (option.type) {
    case 'text':
      return { type: 'string', value: text };
    case 'word':
      if (/\s/.test(text)) throw usageError(`${option.name}: takes one word, not "${clip(text)}"`);
      return { type: 'string', value: text };
    case 'enum': {
      const choice = text.toLowerCase();
      const choices = option.choices ?? [];
      if (!choices.includes(choice)) {
        throw usageError(
          `${option.name}: must be one of ${choices.join(', ')}, not "${clip(text)}"`,
        );
      }
      return { type: 'string', value: choice };
    }
    case 'user':
      return { type: 'mention', value: parseMention(text) };
    case 'users':
      return {
        type: 'mentions',
        value: unique(
          option,
          splitList(text, 'users').map(parseMention),
          (m) => `${m.kind}:${m.id}`,
          (m) => m.raw,
        ),
      };
    case 'org':
      return { type: 'string', value: parseOrgCode(text) };
    case 'orgs':
      return {
        type: 'strings',
        value: unique(option, splitList(text, 'organisations').map(parseOrgCode), (code) => code),
      };
    case 'capability':
      return { type: 'string', value: parseCapability(text) };
    case 'datetime':
      return { type: 'datetime', value: parseDateTime(text) };
    case 'when':
      return { type: 'when', value: parseWhen(text) };
    case 'date':
      return { type: 'date', value: parseDate(text) };
    case 'zone':
      return { type: 'string', value: parseZone(text) };
    case 'duration':
      return { type: 'duration', value: parseDuration(text) };
    case 'durations':
      return { type: 'durations', value: splitList(text, 'durations').map(parseDuration) };
    case 'boolean':
      return { type: 'boolean', value: parseBoolean(text) };
  }
}

/** Refuses a list naming the same thing twice, however it was written (`@Ann,@ann`). */
function unique<T>(
  option: OptionSpec,
  items: T[],
  key: (item: T) => string,
  show: (item: T) => string = key,
): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) throw usageError(`${option.name}: lists ${clip(show(item))} twice`);
    seen.add(k);
  }
  return items;
}
