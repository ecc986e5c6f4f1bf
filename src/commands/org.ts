import { platformOf } from '../chat/refs.js';
import { ORGANISATION_KINDS, type OrganisationKind } from '../db/schema/organisations.js';
import { ROLES, type Role } from '../db/schema/people.js';
import { addMember } from '../domain/directory/add-member.js';
import { addOrganisation } from '../domain/directory/add-organisation.js';
import { listOrganisations } from '../domain/directory/list-organisations.js';
import { setInbox } from '../domain/directory/set-inbox.js';
import { channelIsPrivate } from './channel-privacy.js';
import { plural } from './format.js';
import type { CommandSpec } from './spec.js';

export const orgCommand: CommandSpec = {
  name: 'org',
  summary: 'organisations, their members and their inboxes',
  subcommands: [
    {
      name: 'add',
      summary: 'add an organisation (admin)',
      positional: {
        name: 'code',
        type: 'org',
        required: true,
        description: 'short code, like EST or ACME',
        placeholder: '<code>',
      },
      options: [
        {
          name: 'name',
          type: 'text',
          required: true,
          description: 'full name',
          placeholder: '"<full name>"',
        },
        {
          name: 'kind',
          type: 'enum',
          required: true,
          choices: ORGANISATION_KINDS,
          description: 'what it is',
        },
      ],
      permission: { kind: 'admin' },
      handler: async (ctx, input) => {
        const org = await addOrganisation({
          ctx,
          input: {
            code: input.requireString('code'),
            name: input.requireString('name'),
            kind: input.requireString('kind') as OrganisationKind,
          },
        });
        return {
          visibility: 'private',
          message: { title: `Added ${org.code}: ${org.name} (${org.kind})` },
        };
      },
    },
    {
      name: 'member',
      summary:
        'put a person in an organisation with a role, adding them to the directory if new (admin)',
      positional: { name: 'user', type: 'user', required: true, description: 'the person' },
      options: [
        { name: 'org', type: 'org', required: true, description: 'their organisation' },
        { name: 'role', type: 'enum', required: true, choices: ROLES, description: 'their role' },
        { name: 'name', type: 'text', description: 'full name', placeholder: '"<full name>"' },
        { name: 'tz', type: 'zone', description: 'their time zone' },
        {
          name: 'handle',
          type: 'word',
          description: 'directory handle for someone new',
          placeholder: '<handle>',
        },
        { name: 'slack', type: 'word', description: 'their Slack user id', placeholder: '<U123>' },
        {
          name: 'discord',
          type: 'word',
          description: 'their Discord user id',
          placeholder: '<id>',
        },
      ],
      permission: { kind: 'admin' },
      handler: async (ctx, input) => {
        const result = await addMember({
          ctx,
          input: {
            user: input.requireMention('user'),
            org: input.requireString('org'),
            role: input.requireString('role') as Role,
            name: input.string('name'),
            tz: input.string('tz'),
            handle: input.string('handle'),
            slack: input.string('slack'),
            discord: input.string('discord'),
          },
        });
        const p = result.person;
        const who = `@${p.handle} (${p.name})`;
        const title = result.created
          ? `Added ${who} to ${p.org?.code} as ${p.role}, time zone ${p.tz}`
          : result.changes.length > 0
            ? `Updated ${who}: ${result.changes.join(', ')}`
            : `${who} is already ${p.role} of ${p.org?.code}; nothing changed`;
        return { visibility: 'private', message: { title } };
      },
    },
    {
      name: 'inbox',
      summary: "make this channel the organisation's inbox for routed requests on this platform",
      options: [{ name: 'org', type: 'org', required: true, description: 'the organisation' }],
      permission: { kind: 'org-member', option: 'org' },
      handler: async (ctx, input) => {
        // TLP:AMBER and above go only to private inboxes: ask the platform now, and again each
        // time the command is run. Unknown (the platform could not say) counts as not private.
        const isPrivate = await channelIsPrivate(ctx);
        const result = await setInbox({
          ctx,
          input: { org: input.requireString('org'), channel: ctx.channel, private: isPrivate },
        });
        const title =
          result.previous === ctx.channel
            ? `This channel is already ${result.org}'s ${platformOf(ctx.channel)} inbox`
            : `This channel is now ${result.org}'s ${platformOf(ctx.channel)} inbox`;
        const body =
          isPrivate === true
            ? 'It is private: requests up to TLP:AMBER+STRICT land here.'
            : isPrivate === false
              ? 'It is not private: only TLP:CLEAR and TLP:GREEN requests land here; higher levels go to the contacts directly.'
              : 'Concord could not tell whether it is private, so it treats it as not private: TLP:AMBER and above go to the contacts directly.';
        return { visibility: 'channel', message: { title, body } };
      },
    },
    {
      name: 'list',
      summary: 'list organisations',
      options: [
        { name: 'kind', type: 'enum', choices: ORGANISATION_KINDS, description: 'only this kind' },
      ],
      permission: { kind: 'member' },
      handler: async (ctx, input) => {
        const orgs = await listOrganisations(
          ctx.db,
          input.string('kind') as OrganisationKind | undefined,
        );
        if (orgs.length === 0)
          return {
            visibility: 'private',
            message: { title: 'No organisations yet: /org add creates one' },
          };
        const lines = orgs.map(
          (o) =>
            `${o.code.padEnd(10)} ${o.kind.padEnd(10)} ${o.name} · ${plural(o.members, 'member')}${o.inboxes.length ? ` · inbox on ${o.inboxes.join(', ')}` : ''}`,
        );
        return {
          visibility: 'private',
          message: { title: `${plural(orgs.length, 'organisation')}`, body: lines.join('\n') },
        };
      },
    },
  ],
};
