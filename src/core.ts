import { ChatHub } from './chat/hub.js';
import type { ChatInbound, CommandReply, InboundAction } from './chat/port.js';
import type { UserRef } from './chat/refs.js';
import {
  afterCommit,
  type CommandRunner,
  createCommandRunner,
  replyToFailure,
} from './commands/dispatch.js';
import { concordCommands } from './commands/registry.js';
import type { CommandRegistry } from './commands/spec.js';
import type { Database } from './db/client.js';
import { closeRequest } from './domain/assist/close-request.js';
import { relayRequestReply } from './domain/assist/relay-reply.js';
import { findPersonByRef, findSpeaker, type Person } from './domain/directory/speaker.js';
import { claimDelivery } from './domain/inbound/claim-delivery.js';
import { relayMessage } from './domain/incidents/relay-message.js';
import { type Answer, answerRouting } from './domain/routing/answer-routing.js';
import { ACCEPT, ACKNOWLEDGE, CLOSE, DECLINE } from './domain/routing/cards.js';
import { throttled, usageError } from './errors.js';
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
  /** Queues committed outbox rows (a fan-out's cards) on the delivery queue. */
  dispatch?: (deliveryIds: readonly number[]) => Promise<void>;
  /** Commands worked on at once; the rest wait, already acknowledged (default 32). */
  concurrency?: number;
  /**
   * The per-person command limit (`CommandRateGate.admit`): 0 lets the command run, anything
   * else is the ms until one would be let through. Without it, commands are not limited.
   */
  admit?: (user: string) => Promise<number>;
}

/** The platform-free heart of Concord: adapters register on `chat` and feed `inbound`. */
export interface Core {
  readonly chat: ChatHub;
  readonly registry: CommandRegistry;
  readonly runCommand: CommandRunner;
  /** What adapters call for every command, button and message, each idempotent on its key. */
  readonly inbound: ChatInbound;
  readonly incidents: IncidentProvisioner;
  /** The directory person behind a chat user, or null (the shell warns of speakers it lacks). */
  findPerson(user: UserRef): Promise<Person | null>;
}

export function createCore(options: CoreOptions): Core {
  const chat = new ChatHub();
  const admins = new Set(options.admins);
  const registry = concordCommands();
  const incidents = new IncidentProvisioner({ db: options.db, chat, logger: options.logger });
  const runCommand = createCommandRunner({
    db: options.db,
    registry,
    chat,
    logger: options.logger,
    metrics: options.metrics,
    bootstrapAdmins: admins,
    provision: (id, opened) => incidents.sync(id, opened),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.enqueue ? { enqueue: options.enqueue } : {}),
    ...(options.dispatch ? { dispatch: options.dispatch } : {}),
  });
  const clock = options.clock ?? (() => new Date());
  const limit = createLimiter(options.concurrency ?? 32);
  const inbound: ChatInbound = {
    command: (command) =>
      limit(async () => {
        // Refused before its key is claimed: nothing of it is recorded, so trying again works.
        const wait = (await options.admit?.(command.user)) ?? 0;
        if (wait > 0) {
          return replyToFailure(tooFast(wait), { ...options, label: 'any', user: command.user });
        }
        try {
          if (!(await claimDelivery(options.db, command.deliveryKey))) return null;
        } catch (error) {
          // The database is out of reach: the same answer the command itself would have given.
          return replyToFailure(error, { ...options, label: 'claim', user: command.user });
        }
        return runCommand(command);
      }),
    action: (action) =>
      limit(async () => {
        const label = `button ${action.action}`;
        try {
          if (!(await claimDelivery(options.db, action.deliveryKey))) return null;
          return await pressButton({ ...options, admins }, action, clock());
        } catch (error) {
          return replyToFailure(error, { ...options, label, user: action.user });
        }
      }),
    async message(said) {
      // Postgres cannot hold NUL in text or jsonb: a message carrying one (no platform sends it,
      // but a signed payload may) would fail as an internal error; the character goes.
      const message = said.text.includes('\u0000')
        ? { ...said, text: said.text.replaceAll('\u0000', '') }
        : said;
      const reply = await relayRequestReply({
        db: options.db,
        message,
        ...(options.deliver ? { claimed: clock() } : {}),
      });
      if (reply) {
        if (reply.rows.length > 0 && options.deliver) await options.deliver(reply.rows);
        return;
      }
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
  return {
    chat,
    registry,
    runCommand,
    inbound,
    incidents,
    findPerson: (user) => findPersonByRef(options.db, user),
  };
}

function tooFast(waitMs: number) {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return throttled(
    `you are sending commands faster than Concord takes them; nothing was done, try again in ${seconds} s`,
  );
}

/**
 * The buttons on request and alert cards: Accept, Decline, Acknowledge, and Close on the
 * requester's own card. Whatever the button changes is queued for delivery once committed.
 */
async function pressButton(
  options: CoreOptions & { admins: ReadonlySet<string> },
  action: InboundAction,
  now: Date,
): Promise<CommandReply> {
  const speaker = await findSpeaker(options.db, action.user, options.admins);
  const ctx = { db: options.db, speaker, now };
  // Own keys only: an action id such as `constructor` (a signed payload may carry any) is no
  // answer (found by the fuzz, test/fuzz: it answered a routing with Object's constructor).
  const answer = Object.hasOwn(BUTTON_ANSWERS, action.action)
    ? BUTTON_ANSWERS[action.action]
    : undefined;
  let outcome: { reply: string; deliveries: number[] };
  if (answer) {
    const routingId = Number(action.value);
    if (!Number.isSafeInteger(routingId) || routingId <= 0) {
      throw usageError('that button carries no request or warning');
    }
    outcome = await answerRouting({
      ctx,
      input: { routingId, answer, pressedOn: action.message },
    });
  } else if (action.action === CLOSE) {
    const closed = await closeRequest({ ctx, input: { ref: action.value, outcome: 'resolved' } });
    outcome = {
      reply: `✓ ${closed.ref} closed; every card shows it`,
      deliveries: closed.deliveries,
    };
  } else {
    return {
      visibility: 'private',
      message: { title: `That button (${action.action}) is no longer active` },
    };
  }
  await afterCommit(
    options.dispatch,
    options.logger,
    'dispatch after a button',
  )(outcome.deliveries);
  return { visibility: 'private', message: { title: outcome.reply } };
}

const BUTTON_ANSWERS: Record<string, Answer | undefined> = {
  [ACCEPT]: 'accept',
  [DECLINE]: 'decline',
  [ACKNOWLEDGE]: 'acknowledge',
};
