import { Routes } from 'discord.js';
import type { ChatInbound, CommandReply } from '../../src/chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../../src/chat/refs.js';
import type { CommandRegistry } from '../../src/commands/spec.js';
import type { Logger } from '../../src/log.js';
import { commandLine, type InteractionOption } from './commands.js';
import { discordChannel, discordMessage, discordUser } from './refs.js';
import { type DiscordMessageBody, decodeCustomId, renderLine, renderMessage } from './render.js';
import type { RestClient } from './rest.js';

/**
 * Slash commands and button presses, whichever way they arrive (gateway or signed HTTP). The
 * caller acknowledges first, with `ack`, inside Discord's 3 seconds; `run` then does the work
 * and answers through the interaction's webhook, valid for 15 minutes.
 */

const EPHEMERAL = 64;
const THREAD_TYPES = new Set([10, 11, 12]);
/** Deferred ephemeral reply ("Concord is thinking…", seen only by the caller). */
const DEFER_REPLY = { type: 5, data: { flags: EPHEMERAL } } as const;
/** Deferred update: the button press is accepted and the message left as it is. */
const DEFER_UPDATE = { type: 6 } as const;

interface RawUser {
  id: string;
  username?: string;
  global_name?: string | null;
}

/** The parts of an interaction payload the adapter reads (the same JSON on both paths). */
interface RawInteraction {
  id: string;
  token: string;
  type: number;
  application_id?: string;
  channel_id?: string;
  channel?: { id: string; type?: number; parent_id?: string | null };
  member?: { nick?: string | null; user?: RawUser };
  user?: RawUser;
  data?: { name?: string; options?: InteractionOption[]; custom_id?: string };
  message?: { id: string; channel_id?: string };
}

interface Parsed {
  id: string;
  token: string;
  user: UserRef;
  userName?: string;
  /** Where it happened: a thread's own id inside a thread. */
  channelId: string;
  /** What the core sees: a thread's parent channel, like messages in threads. */
  channel: ChannelRef;
  command?: { text: string };
  button?: { message: MessageRef; action: string; value: string };
}

/** An interaction to acknowledge with `ack`, then `run`. */
export interface AcceptedInteraction {
  id: string;
  token: string;
  ack: typeof DEFER_REPLY | typeof DEFER_UPDATE;
  run(): Promise<void>;
}

/** What running an interaction needs: REST for the answers, the core for the work. */
export interface InteractionRunnerOptions {
  rest: RestClient;
  applicationId: string;
  inbound: ChatInbound;
  registry: CommandRegistry;
  logger: Logger;
}

/**
 * Whether a signed payload is shaped as Discord sends it wherever the adapter reads it: ids and
 * names as strings without NUL (Postgres text cannot hold one), options as a list of named
 * options with plain values (two levels: the subcommand, then its options), objects where
 * objects go. Anything else is not an interaction of ours. Found by the fuzz (test/fuzz):
 * `options: 1.5`, or a name that was an object, threw in `parse`, and the endpoint answered 500.
 */
function readable(raw: RawInteraction): boolean {
  const member = raw.member as unknown;
  const person = (raw.member?.user ?? raw.user) as unknown;
  const channel = raw.channel as unknown;
  const data = raw.data as unknown;
  const message = raw.message as unknown;
  return (
    text(raw.id) &&
    (member === undefined || (record(member) && maybeText(raw.member?.nick))) &&
    (person === undefined ||
      (record(person) &&
        text(person.id) &&
        maybeText(person.username) &&
        maybeText(person.global_name))) &&
    maybeText(raw.channel_id) &&
    (channel === undefined ||
      (record(channel) &&
        maybeText(channel.id) &&
        maybeText(channel.parent_id) &&
        (channel.type === undefined || typeof channel.type === 'number'))) &&
    (data === undefined ||
      (record(data) &&
        maybeText(data.name) &&
        maybeText(data.custom_id) &&
        optionList(data.options, 2))) &&
    (message === undefined ||
      (record(message) && text(message.id) && maybeText(message.channel_id)))
  );
}

const record = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): value is string =>
  typeof value === 'string' && !value.includes('\u0000');
const maybeText = (value: unknown) => value === undefined || value === null || text(value);

function optionList(value: unknown, depth: number): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  return value.every(
    (o: unknown) =>
      record(o) &&
      text(o.name) &&
      (o.value === undefined || ['string', 'number', 'boolean'].includes(typeof o.value)) &&
      (depth <= 1 || optionList(o.options, depth - 1)),
  );
}

const asRaw = (raw: unknown): RawInteraction | undefined => {
  const r = raw as Partial<RawInteraction> | null;
  return r && typeof r.id === 'string' && typeof r.token === 'string' && typeof r.type === 'number'
    ? (r as RawInteraction)
    : undefined;
};

/** Turns interactions into core calls and their replies into interaction answers. */
export class InteractionRunner {
  /** Interaction ids seen by this process: a redelivery is neither acknowledged nor run again. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: InteractionRunnerOptions) {}

  /**
   * Reads an interaction without any I/O. Undefined: not a command or button of ours.
   * `'duplicate'`: this process already has it (the core's delivery key guards across processes).
   */
  accept(payload: unknown): AcceptedInteraction | 'duplicate' | undefined {
    const parsed = this.parse(payload);
    if (!parsed) return undefined;
    if (this.seen.has(parsed.id)) return 'duplicate';
    this.remember(parsed.id);
    return {
      id: parsed.id,
      token: parsed.token,
      ack: parsed.button ? DEFER_UPDATE : DEFER_REPLY,
      run: () => (parsed.button ? this.runButton(parsed) : this.runCommand(parsed)),
    };
  }

  /** The acknowledgement a duplicate HTTP delivery still needs (Discord wants an answer). */
  static ackFor(payload: unknown) {
    return asRaw(payload)?.type === 3 ? DEFER_UPDATE : DEFER_REPLY;
  }

  private remember(id: string): void {
    const now = Date.now();
    this.seen.set(id, now);
    // Tokens live 15 minutes; nothing older can come back usefully.
    for (const [old, at] of this.seen) {
      if (now - at < 15 * 60_000 && this.seen.size <= 10_000) break;
      this.seen.delete(old);
    }
  }

  private parse(payload: unknown): Parsed | undefined {
    const raw = asRaw(payload);
    if (!raw || (raw.type !== 2 && raw.type !== 3)) return undefined;
    if (!readable(raw)) return undefined;
    if (raw.application_id && raw.application_id !== this.options.applicationId) return undefined;
    const person = raw.member?.user ?? raw.user;
    const channelId = raw.channel_id ?? raw.channel?.id;
    if (!person || !channelId) return undefined;
    const parentId = THREAD_TYPES.has(raw.channel?.type ?? -1) ? raw.channel?.parent_id : null;
    const name = raw.member?.nick ?? person.global_name ?? person.username;
    const base = {
      id: raw.id,
      token: raw.token,
      user: discordUser(person.id),
      ...(name ? { userName: name } : {}),
      channelId,
      channel: discordChannel(parentId ?? channelId),
    };
    if (raw.type === 2) {
      if (!raw.data?.name) return undefined;
      const data = { name: raw.data.name, options: raw.data.options ?? [] };
      return { ...base, command: { text: commandLine(data, this.options.registry) } };
    }
    const pressed = decodeCustomId(raw.data?.custom_id ?? '');
    if (!pressed || !raw.message) return undefined;
    const message = discordMessage(raw.message.channel_id ?? channelId, raw.message.id);
    return { ...base, button: { message, ...pressed } };
  }

  private async runCommand(p: Parsed): Promise<void> {
    let reply: CommandReply | null;
    try {
      reply = await this.options.inbound.command({
        deliveryKey: `discord:int:${p.id}`,
        user: p.user,
        channel: p.channel,
        text: p.command?.text ?? '',
        ...(p.userName ? { userName: p.userName } : {}),
      });
    } catch (err) {
      this.options.logger.error({ err, interaction: p.id }, 'discord command failed');
      return this.editOriginal(p, renderLine(apology(p.id)));
    }
    // A redelivery the core already ran: take the "thinking…" reply away, say nothing.
    if (!reply) return this.deleteOriginal(p);
    const body = renderMessage(reply.message);
    if (reply.visibility === 'private') return this.editOriginal(p, body);
    try {
      await this.options.rest.post(Routes.channelMessages(p.channelId), { body });
      await this.editOriginal(p, renderLine(`Posted in <#${p.channelId}>.`));
    } catch (err) {
      // The bot may not write here (e.g. a channel it was not let into): answer privately.
      this.options.logger.warn({ err, interaction: p.id }, 'discord channel reply failed');
      const note = 'I could not post this in the channel, so only you see it:';
      await this.editOriginal(p, { ...body, content: `${note}\n${body.content}`.trim() });
    }
  }

  private async runButton(p: Parsed): Promise<void> {
    const button = p.button;
    if (!button) return;
    let reply: CommandReply | null;
    try {
      reply = await this.options.inbound.action({
        deliveryKey: `discord:int:${p.id}`,
        user: p.user,
        channel: p.channel,
        message: button.message,
        action: button.action,
        value: button.value,
      });
    } catch (err) {
      this.options.logger.error({ err, interaction: p.id }, 'discord button failed');
      return this.followUp(p, renderLine(apology(p.id)));
    }
    // The person who pressed sees the answer; the core updates the card itself if it must.
    if (reply) await this.followUp(p, renderMessage(reply.message));
  }

  private async editOriginal(p: Parsed, body: DiscordMessageBody): Promise<void> {
    await this.webhook(p, 'edit the reply', () =>
      this.options.rest.patch(Routes.webhookMessage(this.options.applicationId, p.token), {
        body,
        auth: false,
      }),
    );
  }

  private async deleteOriginal(p: Parsed): Promise<void> {
    await this.webhook(p, 'delete the reply', () =>
      this.options.rest.delete(Routes.webhookMessage(this.options.applicationId, p.token), {
        auth: false,
      }),
    );
  }

  private async followUp(p: Parsed, body: DiscordMessageBody): Promise<void> {
    await this.webhook(p, 'follow up', () =>
      this.options.rest.post(Routes.webhook(this.options.applicationId, p.token), {
        body: { ...body, flags: EPHEMERAL },
        auth: false,
      }),
    );
  }

  /** Answers are best effort: the work is done and recorded even if the person misses the reply. */
  private async webhook(p: Parsed, what: string, request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
    } catch (err) {
      this.options.logger.warn({ err, interaction: p.id }, `discord: could not ${what}`);
    }
  }
}

const apology = (id: string) =>
  `Sorry, something went wrong on Concord's side (ref ${id}). Try again, or tell an admin.`;
