import { confirmContacts } from '../domain/contacts/confirm-contacts.js';
import { findContacts } from '../domain/contacts/find-contacts.js';
import { listContacts } from '../domain/contacts/list-contacts.js';
import { removeContact } from '../domain/contacts/remove-contact.js';
import { setContacts } from '../domain/contacts/set-contacts.js';
import { daysAgo, isoDate, localClock, plural, rankName } from './format.js';
import type { CommandSpec } from './spec.js';

/** Contacts who have not confirmed for this long are stale (and, from the scheduler, nagged). */
export const CONFIRMATION_INTERVAL_DAYS = 90;

export const pocCommand: CommandSpec = {
  name: 'poc',
  summary: 'points of contact: who to call, per organisation and capability',
  subcommands: [
    {
      name: 'set',
      summary: 'set the primary contact and ordered backups for a capability',
      positional: {
        name: 'primary',
        type: 'user',
        required: true,
        description: 'the primary contact',
      },
      positionalAfter: 2,
      options: [
        { name: 'org', type: 'org', required: true, description: 'the organisation' },
        { name: 'capability', type: 'capability', required: true, description: 'capability tag' },
        { name: 'backup', type: 'users', description: 'backups, in order' },
      ],
      permission: { kind: 'org-member', option: 'org' },
      handler: async (ctx, input) => {
        const result = await setContacts({
          ctx,
          input: {
            org: input.requireString('org'),
            capability: input.requireString('capability'),
            primary: input.requireMention('primary'),
            backups: input.mentions('backup') ?? [],
          },
        });
        const [primary, ...backups] = result.contacts.map((p) => `@${p.handle}`);
        const list = `primary ${primary}${backups.length ? `, backups ${backups.join(', ')}` : ', no backups'}`;
        const title = result.changed
          ? `${result.org} ${result.capability}: ${list}`
          : `${result.org} ${result.capability} is already ${list}; nothing changed`;
        return { visibility: 'private', message: { title } };
      },
    },
    {
      name: 'who',
      summary: 'who to call for a capability, primary first',
      positional: {
        name: 'capability',
        type: 'capability',
        required: true,
        description: 'capability tag',
        placeholder: '<capability>',
      },
      options: [{ name: 'org', type: 'org', description: 'only this organisation' }],
      permission: { kind: 'member' },
      handler: async (ctx, input) => {
        const result = await findContacts(ctx.db, {
          capability: input.requireString('capability'),
          org: input.string('org'),
        });
        const lines: string[] = [];
        for (const group of result.groups) {
          lines.push(`${group.org.code} — ${group.org.name}`);
          for (const c of group.contacts) {
            const reach = c.platforms.length ? c.platforms.join(', ') : 'shell only';
            lines.push(
              `  ${rankName(c.rank).padEnd(9)} ${c.name} @${c.handle} · ${reach} · ${c.tz} (now ${localClock(ctx.now, c.tz)}) · confirmed ${isoDate(c.lastConfirmedAt)} (${daysAgo(c.lastConfirmedAt, ctx.now)})`,
            );
          }
        }
        const more = result.totalOrganisations - result.groups.length;
        return {
          visibility: 'private',
          message: {
            title: `Who to call for ${result.capability}`,
            body: lines.join('\n'),
            ...(more > 0
              ? { footer: `…and ${plural(more, 'more organisation')}: add org:<code> to see one` }
              : {}),
          },
        };
      },
    },
    {
      name: 'list',
      summary:
        'list points of contact, of one organisation or all; stale:true shows only unconfirmed ones',
      options: [
        { name: 'org', type: 'org', description: 'only this organisation' },
        {
          name: 'stale',
          type: 'boolean',
          description: `only contacts unconfirmed for ${CONFIRMATION_INTERVAL_DAYS} days`,
        },
      ],
      permission: { kind: 'member' },
      handler: async (ctx, input) => {
        const stale = input.boolean('stale') ?? false;
        const staleBefore = stale
          ? new Date(ctx.now.getTime() - CONFIRMATION_INTERVAL_DAYS * 86_400_000)
          : undefined;
        const rows = await listContacts(ctx.db, { org: input.string('org'), staleBefore });
        const scope = input.string('org') ?? 'all organisations';
        if (rows.length === 0) {
          return {
            visibility: 'private',
            message: {
              title: stale ? `No stale contacts in ${scope}` : `No points of contact in ${scope}`,
            },
          };
        }
        const lines: string[] = [];
        let last = '';
        for (const r of rows) {
          const key = `${r.org} ${r.capability}`;
          if (key !== last) lines.push(key);
          last = key;
          lines.push(
            `  ${rankName(r.rank).padEnd(9)} @${r.handle} · confirmed ${daysAgo(r.lastConfirmedAt, ctx.now)}`,
          );
        }
        const title = `${stale ? 'Stale points' : 'Points'} of contact in ${scope}: ${plural(rows.length, 'entry', 'entries')}`;
        return { visibility: 'private', message: { title, body: lines.join('\n') } };
      },
    },
    {
      name: 'remove',
      summary: "take someone off an organisation's list for a capability; the rest move up",
      positional: {
        name: 'user',
        type: 'user',
        required: true,
        description: 'the contact to remove',
      },
      positionalAfter: 2,
      options: [
        { name: 'org', type: 'org', required: true, description: 'the organisation' },
        { name: 'capability', type: 'capability', required: true, description: 'capability tag' },
      ],
      permission: { kind: 'org-member', option: 'org' },
      handler: async (ctx, input) => {
        const org = input.requireString('org');
        const capability = input.requireString('capability');
        const result = await removeContact({
          ctx,
          input: { org, capability, user: input.requireMention('user') },
        });
        const after = result.primary
          ? result.wasRank === 0
            ? `@${result.primary} is now primary`
            : `primary is still @${result.primary}`
          : `${org} has no ${capability} contact left`;
        return {
          visibility: 'private',
          message: {
            title: `Removed @${result.handle} (${rankName(result.wasRank)}) from ${org} ${capability}; ${after}`,
          },
        };
      },
    },
    {
      name: 'confirm',
      summary: 'confirm you still hold your point-of-contact roles',
      options: [],
      permission: { kind: 'member' },
      handler: async (ctx) => {
        const { roles } = await confirmContacts({ ctx });
        return {
          visibility: 'private',
          message: { title: `Confirmed ${plural(roles.length, 'role')}`, body: roles.join('\n') },
        };
      },
    },
  ],
};
