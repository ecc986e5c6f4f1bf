import { randomUUID } from 'node:crypto';
import type { ChatHub } from '../chat/hub.js';
import type { CommandReply, InboundCommand } from '../chat/port.js';
import type { Database } from '../db/client.js';
import { findSpeaker, type Speaker } from '../domain/directory/speaker.js';
import type { IncidentView } from '../domain/incidents/load-incident.js';
import { ConcordError, forbidden, unavailable } from '../errors.js';
import type { ItemRef } from '../jobs/items.js';
import type { ProvisionOutcome } from '../jobs/provision-incidents.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { withinMs } from '../redis/deadline.js';
import type { CommandInput } from './input.js';
import { parseCommand } from './parse.js';
import type { CommandRegistry, Permission } from './spec.js';
import { usageLine } from './usage.js';

export interface CommandRunnerDeps {
  db: Database;
  registry: CommandRegistry;
  chat: ChatHub;
  logger: Logger;
  metrics: Metrics;
  /** `platform:userId` of people who are admins whatever the directory says. */
  bootstrapAdmins: ReadonlySet<string>;
  clock?: () => Date;
  /** Enqueues scheduled items after commit; without it, the reconciler picks them up. */
  enqueue?: (items: readonly ItemRef[]) => Promise<void>;
  /** Queues committed deliveries; without it, the delivery reconciler picks them up. */
  dispatch?: (deliveryIds: readonly number[]) => Promise<void>;
  /** Brings an incident's channels up to date (the IncidentProvisioner). */
  provision?: (incidentId: number, opened?: IncidentView) => Promise<ProvisionOutcome>;
}

const NO_PROVISIONER = async (): Promise<ProvisionOutcome> => ({
  state: 'pending',
  error: 'no chat platform is running',
  channels: [],
});

export type CommandRunner = (command: InboundCommand) => Promise<CommandReply>;

/**
 * Parse, find the speaker, check permission, run the handler, and turn every failure into a
 * one-line answer. The reply is always something to show: this function does not throw.
 */
export function createCommandRunner(deps: CommandRunnerDeps): CommandRunner {
  const clock = deps.clock ?? (() => new Date());
  // The command's change is committed; a Redis hiccup here only delays the items until the
  // reconciler's next pass, so it must not turn a done command into an error.
  const enqueueAfterCommit = afterCommit(deps.enqueue, deps.logger, 'enqueue');
  const dispatchAfterCommit = afterCommit(deps.dispatch, deps.logger, 'dispatch');
  return async (inbound) => {
    const started = performance.now();
    let label = 'unknown';
    let ok = false;
    // One id per command: on every line the command logs, and in the apology if it fails.
    const correlationId = randomUUID().slice(0, 8);
    try {
      const parsed = parseCommand(inbound.text, deps.registry);
      label = `${parsed.spec.name} ${parsed.sub.name}`;
      let reply: CommandReply;
      try {
        const speaker = await findSpeaker(deps.db, inbound.user, deps.bootstrapAdmins);
        checkPermission(parsed.sub.permission, speaker, parsed.input);
        const ctx = {
          db: deps.db,
          speaker,
          channel: inbound.channel,
          caller: inbound.user,
          now: clock(),
          logger: deps.logger.child({ correlationId, command: label }),
          chat: deps.chat,
          registry: deps.registry,
          enqueue: enqueueAfterCommit,
          dispatch: dispatchAfterCommit,
          provision: deps.provision ?? NO_PROVISIONER,
        };
        reply = await parsed.sub.handler(ctx, parsed.input);
      } catch (error) {
        throw error instanceof ConcordError
          ? error.withUsage(usageLine(parsed.spec, parsed.sub))
          : error;
      }
      deps.metrics.commands.inc({ command: label, outcome: 'ok' });
      ok = true;
      return reply;
    } catch (error) {
      return replyToFailure(error, { ...deps, label, user: inbound.user, correlationId });
    } finally {
      const seconds = (performance.now() - started) / 1000;
      deps.metrics.commandSeconds.observe({ command: label }, seconds);
      // One line per command, under the id its other lines and its apology carry.
      deps.logger.info(
        { correlationId, command: label, user: inbound.user, ok, ms: Math.round(seconds * 1000) },
        'command handled',
      );
    }
  };
}

/**
 * How long a committed command waits for its jobs to be queued. Redis answers in a millisecond;
 * with Redis gone, ioredis and BullMQ would hold the command forever (an offline queue,
 * `maxRetriesPerRequest: null`), and every command after it in the shell.
 */
export const AFTER_COMMIT_DEADLINE_MS = 500;

/**
 * Hands what a committed change wrote (scheduled items, outbox rows) to its queue. A failure, or
 * no answer within `AFTER_COMMIT_DEADLINE_MS`, is logged and goes no further: the change stands,
 * and the reconciler queues the rows it finds (Jobs runs it again as soon as Redis answers, not
 * only on its minute).
 *
 * Decided: with Redis gone a command commits and is answered, rather than refused with "try
 * again". Postgres is the source of truth for everything scheduled and every delivery, so the
 * rows are safe; what Redis lacks is only the job, and every job id is deterministic (the item's
 * id and generation, the delivery's id), so the reconciler's job, the abandoned add when ioredis
 * finally sends it, and a job a retried command queues are one job. A retried command is itself
 * no double: its key (`claimDelivery`) or the domain's own rules refuse it.
 */
export function afterCommit<T>(
  queue: ((items: readonly T[]) => Promise<void>) | undefined,
  logger: Logger,
  what: string,
): (items: readonly T[]) => Promise<void> {
  return async (items) => {
    if (!queue || items.length === 0) return;
    await withinMs(
      AFTER_COMMIT_DEADLINE_MS,
      what,
      Promise.resolve().then(() => queue(items)),
    ).catch((err: unknown) =>
      logger.warn(
        { err: err instanceof Error ? err.message : String(err), items: items.length },
        `${what} after commit failed; the reconciler queues them`,
      ),
    );
  };
}

/**
 * The one-line answer to a failed command: the reason for a ConcordError (a lost database
 * connection counts as `unavailable`), otherwise an apology carrying a correlation id that is
 * logged with the error.
 */
export function replyToFailure(
  error: unknown,
  context: {
    logger: Logger;
    metrics: Metrics;
    label: string;
    user: string;
    /** The command's id, when it has one already; otherwise the apology gets a new one. */
    correlationId?: string;
  },
): CommandReply {
  const failure = asConcordError(error);
  if (failure) {
    context.metrics.commands.inc({ command: context.label, outcome: failure.code });
    return {
      visibility: 'private',
      message: {
        title: `⚠ ${failure.message}`,
        ...(failure.usage ? { footer: `Usage: ${failure.usage}` } : {}),
      },
    };
  }
  const ref = context.correlationId ?? randomUUID().slice(0, 8);
  context.metrics.commands.inc({ command: context.label, outcome: 'internal' });
  context.logger.error(
    { err: error, correlationId: ref, command: context.label, user: context.user },
    'command failed',
  );
  return {
    visibility: 'private',
    message: {
      title: `Sorry, that went wrong on Concord's side (reference ${ref}); nothing was changed`,
    },
  };
}

function checkPermission(permission: Permission, speaker: Speaker, input: CommandInput): void {
  if (permission.kind === 'anyone' || speaker.isAdmin) return;
  const person = speaker.person;
  if (!person) {
    throw forbidden(
      `you are not in Concord's directory yet: ask an admin to run /org member <you> org:<code> role:<role> (/concord whoami shows who you are)`,
    );
  }
  switch (permission.kind) {
    case 'member':
      return;
    case 'admin':
      throw forbidden('only an admin may do that');
    case 'roles':
      if (person.role && permission.roles.includes(person.role)) return;
      throw forbidden(
        `only ${permission.roles.map((r) => `${r}s`).join(' or ')} may do that; you are ${person.role ? `a ${person.role}` : 'without a role'}`,
      );
    case 'org-member': {
      const code = input.string(permission.option);
      if (code !== undefined && person.org?.code === code) return;
      throw forbidden(`only members of ${code ?? 'that organisation'} or an admin may do that`);
    }
  }
}

/** Connection failures become `unavailable`: the user should try again, nothing was changed. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
]);

function asConcordError(error: unknown): ConcordError | null {
  if (error instanceof ConcordError) return error;
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | null)?.code ??
    (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) {
    return unavailable(
      'Concord cannot reach its database right now; nothing was changed, try again in a minute',
    );
  }
  return null;
}
