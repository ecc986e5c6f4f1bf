import { TLP_LEVELS, type TlpLevel } from '../chat/message.js';
import { ALERT_SEVERITIES, type AlertSeverity } from '../db/schema/assistance.js';
import { alertStatus } from '../domain/alerts/alert-status.js';
import { EARLY_WARNING, sendAlert } from '../domain/alerts/send-alert.js';
import { parseAddressees } from '../domain/routing/targets.js';
import { usageError } from '../errors.js';
import { confirmRouted } from './assist.js';
import type { CommandSpec } from './spec.js';

const MEMBERS = { kind: 'member' } as const;

export const alertCommand: CommandSpec = {
  name: 'alert',
  summary: 'early warnings to every delegation’s early-warning contact',
  defaultSubcommand: 'send',
  subcommands: [
    {
      name: 'send',
      summary: 'send an early warning; each organisation acknowledges it, or it escalates',
      positional: { name: 'text', type: 'text', required: true, description: 'the warning' },
      options: [
        {
          name: 'tlp',
          type: 'enum',
          choices: TLP_LEVELS,
          description: 'Traffic Light Protocol level (default amber)',
        },
        {
          name: 'severity',
          type: 'enum',
          choices: ALERT_SEVERITIES,
          description: 'escalates after: critical 15m, high 1h, medium 4h (default), low 24h',
        },
        {
          name: 'to',
          type: 'word',
          description: 'delegations (default), all, or organisation codes',
          placeholder: 'delegations|all|<codes>',
        },
      ],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const tlp = (input.string('tlp') as TlpLevel | undefined) ?? 'amber';
        const to = parseAddressees(input.string('to'), { kind: 'delegations' });
        if (to.kind === 'industry') {
          throw usageError('to: takes delegations, all or organisation codes');
        }
        const result = await sendAlert({
          ctx,
          input: {
            text: input.requireString('text'),
            tlp,
            severity: (input.string('severity') as AlertSeverity | undefined) ?? 'medium',
            to,
            sender: ctx.caller,
            running: ctx.chat.platforms(),
          },
        });
        return confirmRouted(
          ctx,
          result.ref,
          tlp,
          result,
          EARLY_WARNING,
          `/alert status ${result.ref} shows who has acknowledged.`,
        );
      },
    },
    {
      name: 'status',
      summary: 'who has acknowledged an early warning and who has not',
      positional: {
        name: 'ref',
        type: 'word',
        required: true,
        description: 'which warning',
        placeholder: '<EW-ref>',
      },
      options: [],
      permission: MEMBERS,
      handler: async (ctx, input) => {
        const status = await alertStatus(ctx.db, ctx.speaker, input.requireString('ref'));
        return {
          visibility: 'private',
          message: {
            title: `${status.ref}: ${status.acknowledged.length} acknowledged, ${status.outstanding.length} outstanding`,
            fields: [
              { label: 'Acknowledged', value: status.acknowledged.join('\n') || 'nobody yet' },
              { label: 'Outstanding', value: status.outstanding.join('\n') || 'nobody' },
            ],
          },
        };
      },
    },
  ],
};
