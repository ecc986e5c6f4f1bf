import { TLP_LEVELS, type TlpLevel } from '../chat/message.js';
import { addAction, completeAction, listActions } from '../domain/forum/actions.js';
import { cancelSession } from '../domain/forum/cancel-session.js';
import { listSessions } from '../domain/forum/list-sessions.js';
import { describeOffset } from '../domain/forum/reminder-times.js';
import { scheduleSession } from '../domain/forum/schedule-session.js';
import { usageError } from '../errors.js';
import { formatInZone } from '../time/zoned.js';
import { channelIsPrivate } from './channel-privacy.js';
import { plural } from './format.js';
import type { CommandSpec } from './spec.js';

const ORGANISERS = { kind: 'roles', roles: ['organiser'] } as const;

export const forumCommand: CommandSpec = {
  name: 'forum',
  summary: 'forum sessions, their reminders, and action items',
  subcommands: [
    {
      name: 'schedule',
      summary: 'schedule a session; reminders go to this channel and to each participant',
      positional: {
        name: 'title',
        type: 'text',
        required: true,
        description: 'what the session is',
      },
      options: [
        { name: 'at', type: 'when', required: true, description: 'when it starts' },
        { name: 'tz', type: 'zone', description: 'the time zone of at: (default: yours)' },
        {
          name: 'repeat',
          type: 'enum',
          choices: ['yearly'],
          description: 'schedule next year’s when it takes place',
        },
        {
          name: 'remind',
          type: 'durations',
          description: 'reminders before the start (default 30d,7d,1d,1h)',
        },
        { name: 'participants', type: 'users', description: 'who else is reminded' },
        {
          name: 'tlp',
          type: 'enum',
          choices: TLP_LEVELS,
          description:
            'label of the reminders (default green); amber and amber+strict only from a private channel',
        },
      ],
      permission: ORGANISERS,
      handler: async (ctx, input) => {
        const session = await scheduleSession({
          ctx,
          input: {
            title: input.requireString('title'),
            at: input.requireWhen('at'),
            tz: input.string('tz'),
            repeat: input.string('repeat') === 'yearly' ? 'yearly' : 'none',
            reminders: input.durations('remind'),
            participants: input.mentions('participants') ?? [],
            tlp: (input.string('tlp') as TlpLevel | undefined) ?? 'green',
            channel: ctx.channel,
            channelPrivate: await channelIsPrivate(ctx),
          },
        });
        await ctx.enqueue(session.items);
        const fields = [
          { label: 'When', value: `${formatInZone(session.startsAt, session.tz)} (${session.tz})` },
          {
            label: 'Reminders',
            value: session.reminders.length
              ? `${session.reminders.map(describeOffset).join(', ')} before`
              : 'none',
          },
          {
            label: 'Participants',
            value: session.participants.map((h) => `@${h}`).join(', ') || 'none',
          },
        ];
        if (session.skipped.length)
          fields.push({
            label: 'Skipped',
            value: `${session.skipped.map(describeOffset).join(', ')} (already past)`,
          });
        return {
          visibility: 'channel',
          message: { title: `Scheduled ${session.ref}: ${session.title}`, fields },
        };
      },
    },
    {
      name: 'list',
      summary: 'sessions to come, in your time zone',
      options: [],
      permission: { kind: 'member' },
      handler: async (ctx) => {
        const sessions = await listSessions(ctx.db, ctx.now);
        if (sessions.length === 0)
          return { visibility: 'private', message: { title: 'No forum sessions scheduled' } };
        const tz = ctx.speaker.person?.tz ?? 'UTC';
        const body = sessions
          .map(
            (s) =>
              `${s.ref.padEnd(11)} ${formatInZone(s.startsAt, tz)}  ${s.title}${s.repeat === 'yearly' ? ' (yearly)' : ''}`,
          )
          .join('\n');
        return {
          visibility: 'private',
          message: {
            title: `${plural(sessions.length, 'session')} to come (times in ${tz})`,
            body,
          },
        };
      },
    },
    {
      name: 'cancel',
      summary: 'cancel a session and its reminders',
      positional: {
        name: 'ref',
        type: 'word',
        required: true,
        description: 'the session',
        placeholder: '<session-ref>',
      },
      options: [],
      permission: ORGANISERS,
      handler: async (ctx, input) => {
        const result = await cancelSession({ ctx, input: { ref: input.requireString('ref') } });
        return {
          visibility: 'channel',
          message: {
            title: `Cancelled ${result.ref}: ${result.title} (${plural(result.cancelledItems, 'reminder')} withdrawn)`,
          },
        };
      },
    },
    {
      name: 'action',
      summary:
        'record an action item; its owner is reminded the day before and every 2 days after it is due',
      positional: {
        name: 'text',
        type: 'text',
        required: true,
        description: 'the session and what is to be done',
        placeholder: '<session-ref> <text>',
      },
      options: [
        { name: 'owner', type: 'user', required: true, description: 'who does it' },
        { name: 'due', type: 'date', required: true, description: 'by when' },
      ],
      permission: ORGANISERS,
      handler: async (ctx, input) => {
        const [sessionRef = '', ...words] = input.requireString('text').split(/\s+/);
        if (words.length === 0)
          throw usageError(
            'give the session, then what is to be done: /forum action FS-2027-1 Send the minutes …',
          );
        const due = input.date('due');
        if (!due) throw usageError('due: is needed');
        const owner = input.requireMention('owner');
        const action = await addAction({
          ctx,
          input: { sessionRef, text: words.join(' '), owner, due },
        });
        await ctx.enqueue([action.item]);
        return {
          visibility: 'channel',
          message: {
            title: `Action #${action.id} for ${action.sessionRef}: @${action.owner}, due ${action.due}`,
            fields: [
              {
                label: 'First reminder',
                value: formatInZone(action.firstReminder, ctx.speaker.person?.tz ?? 'UTC'),
              },
            ],
          },
        };
      },
    },
    {
      name: 'done',
      summary: 'mark an action item done (its owner, an organiser or an admin)',
      positional: {
        name: 'id',
        type: 'word',
        required: true,
        description: 'the action number',
        placeholder: '<action-id>',
      },
      options: [],
      permission: { kind: 'member' },
      handler: async (ctx, input) => {
        const raw = input.requireString('id').replace(/^#/, '');
        const id = Number(raw);
        if (!Number.isInteger(id) || id <= 0)
          throw usageError(`"${raw}" is not an action number like 12`);
        const action = await completeAction({ ctx, input: { id } });
        return {
          visibility: 'channel',
          message: { title: `Action #${action.id} done: ${action.text}` },
        };
      },
    },
    {
      name: 'actions',
      summary: 'open action items, of one session or all',
      positional: {
        name: 'session',
        type: 'word',
        description: 'a session',
        placeholder: '<session-ref>',
      },
      options: [],
      permission: { kind: 'member' },
      handler: async (ctx, input) => {
        const rows = await listActions(ctx.db, { sessionRef: input.string('session') });
        if (rows.length === 0)
          return { visibility: 'private', message: { title: 'No open action items' } };
        const body = rows
          .map(
            (a) =>
              `#${String(a.id).padEnd(4)} ${a.session.padEnd(11)} due ${a.due}  @${a.owner}  ${a.text}`,
          )
          .join('\n');
        return {
          visibility: 'private',
          message: { title: `${plural(rows.length, 'open action item')}`, body },
        };
      },
    },
  ],
};
