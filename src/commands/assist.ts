import { TLP_LEVELS, type TlpLevel } from '../chat/message.js';
import type { CommandReply } from '../chat/port.js';
import {
  REQUEST_OUTCOMES,
  type RequestOutcome,
  URGENCIES,
  type Urgency,
} from '../db/schema/assistance.js';
import { closeRequest } from '../domain/assist/close-request.js';
import { listRequests, requestLine } from '../domain/assist/list-requests.js';
import { requestAssistance } from '../domain/assist/request-assistance.js';
import type { RouteResult } from '../domain/routing/route.js';
import { parseAddressees } from '../domain/routing/targets.js';
import { plural } from './format.js';
import type { CommandContext, CommandSpec } from './spec.js';

const MEMBERS = { kind: 'member' } as const;

/** The sender's one-line summary of a fan-out, with who was left out and why. */
export async function confirmRouted(
  ctx: CommandContext,
  ref: string,
  tlp: TlpLevel,
  routed: RouteResult,
  capability: string,
  after: string,
): Promise<CommandReply> {
  // The cards first: the escalations are due minutes or hours from now.
  await ctx.dispatch(routed.deliveries);
  await ctx.enqueue(routed.items);
  const fields = [{ label: 'Sent to', value: routed.routed.join(', ') }];
  if (routed.withoutContact.length) {
    fields.push({ label: `No ${capability} contact`, value: routed.withoutContact.join(', ') });
  }
  if (routed.refused.length) fields.push({ label: 'Not sent', value: routed.refused.join('\n') });
  if (routed.notes.length) fields.push({ label: 'Note', value: routed.notes.join('\n') });
  return {
    visibility: 'private',
    message: {
      tlp,
      title: `✓ ${ref} sent to ${plural(routed.routed.length, 'organisation')}`,
      fields,
      body: after,
    },
  };
}

export const assistCommand: CommandSpec = {
  name: 'assist',
  summary: 'requests for assistance: routed to the right contact at each organisation',
  subcommands: [
    {
      name: 'request',
      summary: 'ask organisations for help; their contacts accept, decline and answer in threads',
      positional: {
        name: 'need',
        type: 'text',
        required: true,
        description: 'what is needed',
      },
      options: [
        {
          name: 'capability',
          type: 'capability',
          required: true,
          description: 'whose help: forensics, malware-analysis, legal, …',
        },
        {
          name: 'to',
          type: 'word',
          description: 'organisation codes (EST,ACME), industry, delegations or all (default)',
          placeholder: '<codes>|industry|delegations|all',
        },
        {
          name: 'urgency',
          type: 'enum',
          choices: URGENCIES,
          description: 'escalates after: critical 15m, urgent 1h, routine 24h (default)',
        },
        {
          name: 'tlp',
          type: 'enum',
          choices: TLP_LEVELS,
          description: 'Traffic Light Protocol level (default amber, or the incident’s)',
        },
        {
          name: 'incident',
          type: 'word',
          description: 'the incident it is about',
          placeholder: '<INC-ref>',
        },
      ],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const result = await requestAssistance({
          ctx,
          input: {
            need: input.requireString('need'),
            capability: input.requireString('capability'),
            to: parseAddressees(input.string('to'), { kind: 'all' }),
            urgency: (input.string('urgency') as Urgency | undefined) ?? 'routine',
            ...(input.string('tlp') ? { tlp: input.string('tlp') as TlpLevel } : {}),
            ...(input.string('incident') ? { incident: input.string('incident') as string } : {}),
            requester: ctx.caller,
            running: ctx.chat.platforms(),
          },
        });
        return confirmRouted(
          ctx,
          result.ref,
          result.tlp,
          result,
          input.requireString('capability'),
          'Answers arrive in the thread of the card Concord sent you directly; reply there to answer them.',
        );
      },
    },
    {
      name: 'list',
      summary: 'open requests your organisation made or was asked, or your own',
      positional: {
        name: 'which',
        type: 'enum',
        choices: ['open', 'mine'],
        description: 'open (default) or mine',
      },
      options: [],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const which = (input.string('which') ?? 'open') as 'open' | 'mine';
        const { shown, more } = await listRequests(ctx.db, ctx.speaker, which);
        if (shown.length === 0) {
          return {
            visibility: 'private',
            message: { title: which === 'mine' ? 'You have made no requests' : 'No open requests' },
          };
        }
        const org = ctx.speaker.isAdmin ? null : (ctx.speaker.person?.org?.code ?? null);
        return {
          visibility: 'private',
          message: {
            title: `${plural(shown.length, which === 'mine' ? 'request' : 'open request')}${more ? ' (newest first; more exist)' : ''}`,
            body: shown.map((v) => requestLine(v, org)).join('\n'),
          },
        };
      },
    },
    {
      name: 'close',
      summary: 'close a request: escalations stop and every card shows the outcome',
      positional: {
        name: 'ref',
        type: 'word',
        required: true,
        description: 'which request',
        placeholder: '<AR-ref>',
      },
      options: [
        {
          name: 'outcome',
          type: 'enum',
          choices: REQUEST_OUTCOMES,
          description: 'resolved (default) or withdrawn',
        },
      ],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const result = await closeRequest({
          ctx,
          input: {
            ref: input.requireString('ref'),
            outcome: (input.string('outcome') as RequestOutcome | undefined) ?? 'resolved',
          },
        });
        await ctx.dispatch(result.deliveries);
        return {
          visibility: 'private',
          message: { title: `✓ ${result.ref} closed; every card shows it` },
        };
      },
    },
  ],
};
