import type { CommandReply } from '../../src/chat/port.js';
import type { CommandSpec } from '../../src/commands/spec.js';

const reply = async (): Promise<CommandReply> => ({
  visibility: 'private',
  message: { title: 'ok' },
});

/**
 * A command for parser tests with one option of every OptionType, a default subcommand taking
 * free text (like `/alert <text>`), a one-word positional, and a subcommand with a required
 * datetime and an optional typed positional.
 */
export const probeCommand: CommandSpec = {
  name: 'probe',
  summary: 'exercises every option type',
  defaultSubcommand: 'say',
  subcommands: [
    {
      name: 'say',
      summary: 'free text',
      positional: { name: 'text', type: 'text', required: true, description: 'what to say' },
      options: [
        { name: 'tlp', type: 'enum', choices: ['clear', 'green', 'amber'], description: 'tlp' },
        { name: 'to', type: 'orgs', description: 'orgs' },
      ],
      permission: { kind: 'anyone' },
      handler: reply,
    },
    {
      name: 'all',
      summary: 'one option of every type',
      options: [
        { name: 'note', type: 'text', description: 'text' },
        { name: 'ref', type: 'word', description: 'word' },
        { name: 'level', type: 'enum', choices: ['low', 'high'], description: 'enum' },
        { name: 'owner', type: 'user', description: 'user' },
        { name: 'people', type: 'users', description: 'users' },
        { name: 'org', type: 'org', description: 'org' },
        { name: 'orgs', type: 'orgs', description: 'orgs' },
        { name: 'cap', type: 'capability', description: 'capability' },
        { name: 'at', type: 'datetime', description: 'datetime' },
        { name: 'start', type: 'when', description: 'when' },
        { name: 'due', type: 'date', description: 'date' },
        { name: 'tz', type: 'zone', description: 'zone' },
        { name: 'every', type: 'duration', description: 'duration' },
        { name: 'remind', type: 'durations', description: 'durations' },
        { name: 'loud', type: 'boolean', description: 'boolean' },
      ],
      permission: { kind: 'anyone' },
      handler: reply,
    },
    {
      name: 'show',
      summary: 'one word',
      positional: { name: 'ref', type: 'word', description: 'a reference' },
      options: [],
      permission: { kind: 'anyone' },
      handler: reply,
    },
    {
      name: 'plan',
      summary: 'a required datetime, an optional typed positional',
      positional: { name: 'on', type: 'date', description: 'day' },
      options: [
        { name: 'at', type: 'datetime', required: true, description: 'when' },
        { name: 'every', type: 'duration', description: 'how often' },
      ],
      permission: { kind: 'anyone' },
      handler: reply,
    },
  ],
};
