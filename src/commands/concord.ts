import { listContacts } from '../domain/contacts/list-contacts.js';
import { usageError } from '../errors.js';
import { localClock, rankName } from './format.js';
import type { CommandSpec, Permission } from './spec.js';
import { usageLine } from './usage.js';
import { clip } from './values.js';

const describePermission = (p: Permission): string => {
  switch (p.kind) {
    case 'anyone':
      return 'anyone';
    case 'member':
      return 'directory members';
    case 'admin':
      return 'admins';
    case 'roles':
      return p.roles.join(', ');
    case 'org-member':
      return 'members of the named organisation, and admins';
  }
};

export const concordCommand: CommandSpec = {
  name: 'concord',
  summary: 'help, and who Concord thinks you are',
  subcommands: [
    {
      name: 'help',
      summary: 'list the commands, or the usage of one',
      positional: {
        name: 'command',
        type: 'word',
        description: 'a command name',
        placeholder: '<command>',
      },
      options: [],
      permission: { kind: 'anyone' },
      handler: async (ctx, input) => {
        const name = input.string('command')?.replace(/^\//, '').toLowerCase();
        if (!name) {
          const body = ctx.registry.commands
            .map((c) => `/${c.name.padEnd(9)} ${c.summary}`)
            .join('\n');
          return {
            visibility: 'private',
            message: {
              title: 'Concord commands',
              body,
              footer:
                'Grammar: /<command> <subcommand> <text> key:value key:"two words". /concord help <command> for details.',
            },
          };
        }
        const spec = ctx.registry.find(name);
        if (!spec) {
          throw usageError(
            `no command /${clip(name, 20)}; the commands are ${ctx.registry.commands.map((c) => `/${c.name}`).join(', ')}`,
          );
        }
        const body = spec.subcommands
          .map(
            (sub) =>
              `${usageLine(spec, sub)}\n    ${sub.summary} (${describePermission(sub.permission)})`,
          )
          .join('\n');
        return {
          visibility: 'private',
          message: { title: `/${spec.name}: ${spec.summary}`, body },
        };
      },
    },
    {
      name: 'whoami',
      summary: 'your directory entry, role and contact roles',
      options: [],
      permission: { kind: 'anyone' },
      handler: async (ctx) => {
        const { speaker } = ctx;
        const person = speaker.person;
        const admin = speaker.isAdmin ? ' · admin' : '';
        if (!person) {
          return {
            visibility: 'private',
            message: {
              title: `You are ${speaker.ref}${admin}, not in Concord's directory`,
              body: `To be added, ask an admin to run: /org member <you> org:<code> role:delegate|liaison|organiser|admin`,
            },
          };
        }
        const roles = await listContacts(ctx.db, { personId: person.id });
        const fields = [
          {
            label: 'Organisation',
            value: person.org ? `${person.org.code} (${person.org.name})` : 'none',
          },
          { label: 'Role', value: `${person.role ?? 'none'}${admin}` },
          { label: 'Time zone', value: `${person.tz} (now ${localClock(ctx.now, person.tz)})` },
          { label: 'Speaking as', value: speaker.ref },
        ];
        const body = roles.length
          ? `Point of contact for:\n${roles.map((r) => `  ${r.org} ${r.capability} (${rankName(r.rank)})`).join('\n')}`
          : 'Not a point of contact for anything.';
        return {
          visibility: 'private',
          message: { title: `You are ${person.name} @${person.handle}`, fields, body },
        };
      },
    },
  ],
};
