import { ChatHub } from './chat/hub.js';
import type { ChatInbound } from './chat/port.js';
import { type CommandRunner, createCommandRunner, replyToFailure } from './commands/dispatch.js';
import { concordCommands } from './commands/registry.js';
import type { CommandRegistry } from './commands/spec.js';
import type { Database } from './db/client.js';
import { claimDelivery } from './domain/inbound/claim-delivery.js';
import { relayMessage } from './domain/incidents/relay-message.js';
import type { DeliveryRow } from './jobs/deliveries.js';
import type { ItemRef } from './jobs/items.js';
import { IncidentProvisioner } from './jobs/provision-incidents.js';
import { createLimiter } from './limiter.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

export interface CoreOptions {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  /** `platform:userId` of bootstrap admins (CONCORD_ADMINS plus the shell's own speaker). */
  admins: Iterable<string>;
  clock?: () => Date;
  /** Enqueues scheduled items once a command has committed them (the Jobs scheduler). */
  enqueue?: (items: readonly ItemRef[]) => Promise<void>;
  /**
   * Posts outbox rows the core wrote already claimed (relayed messages), at once and in order.
   * Without it, rows are left pending for the delivery queue's reconciler.
   */
  deliver?: (rows: readonly DeliveryRow[]) => Promise<void>;
  /** Commands worked on at once; the rest wait, already acknowledged (default 32). */
  concurrency?: number;
}

/** The platform-free heart of Concord: adapters register on `chat` and feed `inbound`. */
export interface Core {
  readonly chat: ChatHub;
  readonly registry: CommandRegistry;
  readonly runCommand: CommandRunner;
  /** What adapters call for every command, button and message, each idempotent on its key. */
  readonly inbound: ChatInbound;
  readonly incidents: IncidentProvisioner;
}

export function createCore(options: CoreOptions): Core {
  const chat = new ChatHub();
  const registry = concordCommands();
  const incidents = new IncidentProvisioner({ db: options.db, chat, logger: options.logger });
  const runCommand = createCommandRunner({
    db: options.db,
    registry,
    chat,
    logger: options.logger,
    metrics: options.metrics,
    bootstrapAdmins: new Set(options.admins),
    provision: (id, opened) => incidents.sync(id, opened),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.enqueue ? { enqueue: options.enqueue } : {}),
  });
  const clock = options.clock ?? (() => new Date());
  const limit = createLimiter(options.concurrency ?? 32);
  const inbound: ChatInbound = {
    command: (command) =>
      limit(async () => {
        try {
          if (!(await claimDelivery(options.db, command.deliveryKey))) return null;
        } catch (error) {
          // The database is out of reach: the same answer the command itself would have given.
          return replyToFailure(error, { ...options, label: 'claim', user: command.user });
        }
        return runCommand(command);
      }),
    async action(action) {
      if (!(await claimDelivery(options.db, action.deliveryKey))) return null;
      // Incident cards carry no buttons; request and alert cards (assistance, early warnings)
      // bring theirs with them.
      return {
        visibility: 'private',
        message: { title: `That button (${action.action}) is no longer active` },
      };
    },
    async message(message) {
      const decision = await relayMessage({
        db: options.db,
        message,
        ...(options.deliver ? { claimed: clock() } : {}),
      });
      for (const reason of decision.refused) {
        options.logger.warn({ message: message.message, reason }, 'relay refused by TLP');
      }
      if (decision.rows.length > 0 && options.deliver) await options.deliver(decision.rows);
    },
  };
  return { chat, registry, runCommand, inbound, incidents };
}
