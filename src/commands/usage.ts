import type { CommandSpec, OptionSpec, SubcommandSpec } from './spec.js';

const PLACEHOLDER: Record<OptionSpec['type'], string> = {
  text: '<text>',
  word: '<word>',
  enum: '',
  user: '<@user>',
  users: '<@user,...>',
  org: '<code>',
  orgs: '<code,...>',
  capability: '<tag>',
  datetime: '<2027-11-09T10:00>',
  when: '<2027-11-09T10:00|+2h>',
  date: '<2027-11-09>',
  zone: '<Europe/Brussels>',
  duration: '<15m>',
  durations: '<30d,7d,...>',
  boolean: 'true|false',
};

function placeholder(option: OptionSpec): string {
  if (option.placeholder) return option.placeholder;
  if (option.type === 'enum') return (option.choices ?? []).join('|');
  return PLACEHOLDER[option.type];
}

function describePositional(option: OptionSpec): string {
  const shown =
    option.placeholder ?? (option.type === 'user' ? `<@${option.name}>` : `<${option.name}>`);
  return option.required ? shown : `[${shown.replace(/^<(.*)>$/, '$1')}]`;
}

/** `/poc set org:<code> capability:<tag> <@primary> [backup:<@user,...>]` */
export function usageLine(command: CommandSpec, sub: SubcommandSpec): string {
  const parts = [`/${command.name}`];
  if (command.defaultSubcommand !== sub.name) parts.push(sub.name);
  const options = sub.options.map((option) => {
    const text = `${option.name}:${placeholder(option)}`;
    return option.required ? text : `[${text}]`;
  });
  if (sub.positional) {
    const positional = describePositional(sub.positional);
    // `/poc set org:<code> capability:<tag> <@primary>` reads better with the person last.
    if (sub.positionalAfter) options.splice(sub.positionalAfter, 0, positional);
    else options.unshift(positional);
  }
  parts.push(...options);
  return parts.join(' ');
}

/** Every usage line of a command, one per subcommand. */
export function commandUsage(command: CommandSpec): string {
  return command.subcommands.map((sub) => usageLine(command, sub)).join('\n');
}
