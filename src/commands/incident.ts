import { TLP_LEVELS, type TlpLevel } from '../chat/message.js';
import type { CommandReply } from '../chat/port.js';
import type { ChannelRef, ChatPlatform } from '../chat/refs.js';
import { type IncidentStatus, SEVERITIES, type Severity } from '../db/schema/incidents.js';
import { closeIncident } from '../domain/incidents/close-incident.js';
import { inviteToIncident } from '../domain/incidents/invite-to-incident.js';
import { listIncidents, mayRead } from '../domain/incidents/list-incidents.js';
import { loadIncidentView, resolveIncident } from '../domain/incidents/load-incident.js';
import { openIncident } from '../domain/incidents/open-incident.js';
import { postUpdate } from '../domain/incidents/post-update.js';
import { incidentReport } from '../domain/incidents/render-incident.js';
import { setLead } from '../domain/incidents/set-lead.js';
import { setStatus } from '../domain/incidents/set-status.js';
import { forbidden, usageError } from '../errors.js';
import type { ProvisionOutcome } from '../jobs/provision-incidents.js';
import { plural } from './format.js';
import type { CommandContext, CommandSpec, OptionSpec } from './spec.js';

const MEMBERS = { kind: 'member' } as const;
const INCIDENT_OPTION: OptionSpec = {
  name: 'incident',
  type: 'word',
  description: 'which incident (default: the one whose channel this is)',
  placeholder: '<INC-ref>',
};

/** Where the incident's channels are, as links where the platform has them. */
function describeChannels(ctx: CommandContext, outcome: ProvisionOutcome): string {
  if (outcome.channels.length === 0) return 'being prepared';
  return outcome.channels
    .map((c) => {
      if (!c.channel) return `${c.platform}: not created yet`;
      const link = ctx.chat.has(c.platform as ChatPlatform)
        ? ctx.chat.get(c.platform as ChatPlatform).channelLink?.(c.channel)
        : undefined;
      return `${link ?? c.channel}${c.role === 'twin' ? ' (twin)' : ''}`;
    })
    .join('\n');
}

function channelState(outcome: ProvisionOutcome): string | undefined {
  if (outcome.state === 'failed') {
    return `⚠ The channels are not ready: ${outcome.error}. Concord finishes them as soon as that is fixed.`;
  }
  if (outcome.state === 'pending') {
    return `The channels are still being prepared${outcome.error ? ` (${outcome.error})` : ''}; Concord keeps at it.`;
  }
  return undefined;
}

/** After a change: sync the channels, then tell the caller in one line. */
async function confirm(
  ctx: CommandContext,
  result: {
    incident: { id: number; ref: string };
    items: Parameters<CommandContext['enqueue']>[0];
  },
  what: string,
): Promise<CommandReply> {
  await ctx.enqueue(result.items);
  const outcome = await ctx.provision(result.incident.id);
  const state = channelState(outcome);
  return {
    visibility: 'private',
    message: { title: `✓ ${result.incident.ref}: ${what}`, ...(state ? { body: state } : {}) },
  };
}

const target = (ctx: CommandContext, ref: string | undefined) => ({
  ref,
  channel: ctx.channel as ChannelRef,
});

export const incidentCommand: CommandSpec = {
  name: 'incident',
  summary: 'incident channels: open, update, close, and their timeline',
  subcommands: [
    {
      name: 'open',
      summary: 'open an incident: a channel with the organisations’ incident-response contacts',
      positional: { name: 'title', type: 'text', required: true, description: 'what happened' },
      options: [
        {
          name: 'severity',
          type: 'enum',
          choices: SEVERITIES,
          description: 'status reminders: critical 1h, high 4h, medium 24h (default), low none',
        },
        {
          name: 'tlp',
          type: 'enum',
          choices: TLP_LEVELS,
          description: 'Traffic Light Protocol level (default amber)',
        },
        { name: 'orgs', type: 'orgs', description: 'organisations to bring in' },
      ],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const opened = await openIncident({
          ctx,
          input: {
            title: input.requireString('title'),
            severity: (input.string('severity') as Severity | undefined) ?? 'medium',
            tlp: (input.string('tlp') as TlpLevel | undefined) ?? 'amber',
            orgs: input.strings('orgs') ?? [],
            caller: ctx.caller,
          },
        });
        // At once, before anything else is awaited: the open took the provisioning lease for
        // this first pass, which starts from the view the open built instead of reloading it.
        const outcome = await ctx.provision(opened.id, opened.view);
        await ctx.enqueue(opened.items);
        const fields = [{ label: 'Channel', value: describeChannels(ctx, outcome) }];
        if (opened.invited.length)
          fields.push({ label: 'Invited', value: opened.invited.join(', ') });
        if (opened.withoutContact.length) {
          fields.push({
            label: 'No incident-response contact',
            value: `${opened.withoutContact.join(', ')} (invite someone with /incident invite @user)`,
          });
        }
        const state = channelState(outcome);
        return {
          visibility: 'private',
          message: {
            title: `✓ ${opened.ref} opened`,
            fields,
            ...(state ? { body: state } : {}),
          },
        };
      },
    },
    {
      name: 'update',
      summary: 'post a status update to the incident’s channels and timeline',
      positional: { name: 'text', type: 'text', required: true, description: 'the update' },
      options: [INCIDENT_OPTION],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const result = await postUpdate({
          ctx,
          target: target(ctx, input.string('incident')),
          text: input.requireString('text'),
        });
        return confirm(ctx, result, 'update posted');
      },
    },
    {
      name: 'status',
      summary: 'set the status; status reminders run while active',
      positional: {
        name: 'status',
        type: 'enum',
        choices: ['active', 'stable', 'closed'],
        required: true,
        description: 'active, stable or closed',
      },
      options: [INCIDENT_OPTION, { name: 'note', type: 'text', description: 'why' }],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const status = input.requireString('status') as IncidentStatus;
        const where = target(ctx, input.string('incident'));
        if (status === 'closed') {
          const result = await closeIncident({ ctx, target: where, summary: input.string('note') });
          return confirm(ctx, result, 'closed; the channels are archived');
        }
        const result = await setStatus({ ctx, target: where, status, note: input.string('note') });
        return confirm(ctx, result, `status ${status}`);
      },
    },
    {
      name: 'lead',
      summary: 'hand the lead to someone in the incident',
      positional: { name: 'user', type: 'user', required: true, description: 'the new lead' },
      options: [INCIDENT_OPTION],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const result = await setLead({
          ctx,
          target: target(ctx, input.string('incident')),
          lead: input.requireMention('user'),
        });
        return confirm(ctx, result, 'new lead');
      },
    },
    {
      name: 'invite',
      summary: 'bring a person, or an organisation’s incident-response contact, into the incident',
      positional: { name: 'user', type: 'user', description: 'who to invite' },
      options: [
        { name: 'org', type: 'org', description: 'invite this organisation’s primary contact' },
        INCIDENT_OPTION,
      ],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const person = input.mention('user');
        const org = input.string('org');
        if ((person === undefined) === (org === undefined)) {
          throw usageError('name one person (@user) or one organisation (org:<code>)');
        }
        const result = await inviteToIncident({
          ctx,
          target: target(ctx, input.string('incident')),
          who: person ? { person } : { org: org as string },
        });
        return confirm(ctx, result, `invited ${result.invited}`);
      },
    },
    {
      name: 'close',
      summary: 'close: archive the channels, post the timeline report, schedule the review',
      positional: { name: 'summary', type: 'text', description: 'how it ended' },
      options: [INCIDENT_OPTION],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const result = await closeIncident({
          ctx,
          target: target(ctx, input.string('incident')),
          summary: input.string('summary'),
        });
        return confirm(
          ctx,
          result,
          'closed; the channels are archived and the review is in 7 days',
        );
      },
    },
    {
      name: 'list',
      summary: 'incidents you are party to (default: the open ones)',
      positional: {
        name: 'status',
        type: 'enum',
        choices: ['open', 'active', 'stable', 'closed', 'all'],
        description: 'which ones',
      },
      options: [],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const status = (input.string('status') ?? 'open') as IncidentStatus | 'open' | 'all';
        const { shown, total } = await listIncidents(ctx.db, ctx.speaker, status);
        if (shown.length === 0) {
          return {
            visibility: 'private',
            message: { title: `No ${status} incidents you are party to` },
          };
        }
        const lines = shown.map(
          ({ incident, parties }) =>
            `${incident.ref} · ${incident.status} · ${incident.severity} · TLP:${incident.tlp.toUpperCase()} · ${incident.title} (${parties.join(', ') || 'no parties'})`,
        );
        return {
          visibility: 'private',
          message: {
            title: `${plural(shown.length, `${status} incident`)}${total > shown.length ? ' (newest first; more exist)' : ''}`,
            body: lines.join('\n'),
          },
        };
      },
    },
    {
      name: 'report',
      summary: 'the incident’s timeline as Markdown',
      positional: {
        name: 'ref',
        type: 'word',
        description: 'which incident',
        placeholder: '<INC-ref>',
      },
      options: [],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const incident = await resolveIncident(ctx.db, target(ctx, input.string('ref')));
        if (!(await mayRead(ctx.db, ctx.speaker, incident))) {
          throw forbidden(`${incident.ref} is for its parties only`);
        }
        const view = await loadIncidentView(ctx.db, incident);
        return {
          visibility: 'private',
          message: { tlp: incident.tlp, body: await incidentReport(ctx.db, view) },
        };
      },
    },
  ],
};
