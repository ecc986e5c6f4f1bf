import type { ChatHub } from '../chat/hub.js';
import type { CommandReply } from '../chat/port.js';
import type { ChannelRef, UserRef } from '../chat/refs.js';
import type { Database } from '../db/client.js';
import type { Role } from '../db/schema/people.js';
import type { Speaker } from '../domain/directory/speaker.js';
import type { IncidentView } from '../domain/incidents/load-incident.js';
import type { ItemRef } from '../jobs/items.js';
import type { ProvisionOutcome } from '../jobs/provision-incidents.js';
import type { Logger } from '../log.js';
import type { CommandInput } from './input.js';

/**
 * Option types. Each has one text form in the grammar and one Discord option type:
 * - `text`: free words; `word`: one token; `enum`: one of `choices`
 * - `user` `<@U123>`, `<@123>` or `@handle`; `users` a comma list of them
 * - `org` a short code (`EST`); `orgs` a comma list; `capability` a tag (`forensics`)
 * - `datetime` `2027-11-09T10:00`; `when` a datetime or `+2h` from now; `date` `2027-11-09`;
 *   `zone` an IANA zone
 * - `duration` `90s|15m|2h|7d`; `durations` a comma list; `boolean` `true|false`
 */
export type OptionType =
  | 'text'
  | 'word'
  | 'enum'
  | 'user'
  | 'users'
  | 'org'
  | 'orgs'
  | 'capability'
  | 'datetime'
  | 'when'
  | 'date'
  | 'zone'
  | 'duration'
  | 'durations'
  | 'boolean';

export interface OptionSpec {
  name: string;
  type: OptionType;
  description: string;
  required?: boolean;
  /** For `enum`. */
  choices?: readonly string[];
  /** Overrides the generated placeholder in usage lines, e.g. `<session-ref>`. */
  placeholder?: string;
}

/**
 * Who may run a subcommand. Admins may run everything.
 * - `anyone`: also people outside the directory (help, whoami)
 * - `member`: anyone in the directory
 * - `roles`: members holding one of these roles
 * - `org-member`: members of the organisation named by option `option`
 */
export type Permission =
  | { kind: 'anyone' }
  | { kind: 'member' }
  | { kind: 'admin' }
  | { kind: 'roles'; roles: readonly Role[] }
  | { kind: 'org-member'; option: string };

/** What a handler gets besides its input: who is asking, from where, and the services. */
export interface CommandContext {
  db: Database;
  speaker: Speaker;
  channel: ChannelRef;
  caller: UserRef;
  now: Date;
  logger: Logger;
  chat: ChatHub;
  registry: CommandRegistry;
  /** Puts scheduled items on the queue once the command's transaction has committed. */
  enqueue(items: readonly ItemRef[]): Promise<void>;
  /**
   * Puts outbox rows the command's transaction wrote (a fan-out's cards) on the delivery queue
   * once it has committed; without a queue, the reconciler finds them.
   */
  dispatch(deliveryIds: readonly number[]): Promise<void>;
  /**
   * Brings an incident's channels up to date after a change (create, invite, card, archive).
   * `opened`: the view `/incident open` built, whose transaction took the lease for this pass.
   */
  provision(incidentId: number, opened?: IncidentView): Promise<ProvisionOutcome>;
}

export interface SubcommandSpec {
  name: string;
  summary: string;
  /** The free-text part of the grammar (everything that is not `key:value`), if the subcommand takes one. */
  positional?: OptionSpec;
  /** Usage lines show the positional after this many options instead of first. */
  positionalAfter?: number;
  options: readonly OptionSpec[];
  permission: Permission;
  handler: (ctx: CommandContext, input: CommandInput) => Promise<CommandReply>;
}

export interface CommandSpec {
  name: string;
  summary: string;
  subcommands: readonly SubcommandSpec[];
  /** Used when the first word is not a subcommand, e.g. `/alert <text>` runs `alert send`. */
  defaultSubcommand?: string;
}

export interface CommandRegistry {
  readonly commands: readonly CommandSpec[];
  find(name: string): CommandSpec | undefined;
}

export function createRegistry(commands: readonly CommandSpec[]): CommandRegistry {
  const byName = new Map(commands.map((c) => [c.name, c]));
  return { commands, find: (name) => byName.get(name) };
}
