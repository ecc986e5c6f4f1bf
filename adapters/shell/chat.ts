import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort } from '../../src/chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../../src/chat/refs.js';
import {
  channelName,
  channelOfMessage,
  shellChannel,
  shellDirect,
  shellMessage,
  userName,
} from './refs.js';
import { renderForShell } from './render.js';

interface SimulatedChannel {
  name: string;
  private: boolean;
  /** Invited by the bot. */
  members: Set<string>;
  /** Spoke there in the shell (see `enter`): not a member, but they see what is posted. */
  present: Set<string>;
  archived: boolean;
  seq: number;
}

/** A top-level message the bot posted, as it reads now (an edit replaces `message`). */
export interface PostedCard {
  ref: MessageRef;
  channel: ChannelRef;
  message: ChatMessage;
  /** Order of posting across every channel: the greater, the newer. */
  order: number;
}

/** Where the shell's printing goes; the interactive shell redraws its prompt after each. */
export type ShellPrinter = (text: string) => void;

/**
 * The chat port for a terminal: channels and direct messages are simulated in memory and every
 * post is printed, marked `┊` so it reads apart from the answers to the speaker's commands. It
 * remembers the top-level messages it posted, so the shell can press their buttons and answer in
 * their threads as a person on a platform would.
 */
export class ShellChat implements ChatPort {
  readonly platform = 'shell' as const;
  private readonly channels = new Map<string, SimulatedChannel>();
  private readonly cards = new Map<MessageRef, PostedCard>();
  private order = 0;
  private posts = 0;
  private printer: ShellPrinter;
  private readonly watchers: ((text: string) => void)[] = [];

  constructor(out: { write(text: string): unknown }) {
    this.printer = (text) => out.write(`${text}\n`);
  }

  /** Sends the printing elsewhere (the interactive shell, to redraw its prompt after it). */
  printThrough(printer: ShellPrinter): void {
    this.printer = printer;
  }

  /** A line from Concord itself (not a post), printed as posts are: above the prompt. */
  notice(text: string): void {
    this.printer(text);
  }

  /** Called with the text of everything the bot posts, edits or shows. */
  watch(watcher: (text: string) => void): void {
    this.watchers.push(watcher);
  }

  /** How many messages the bot has posted or sent so far: a difference tells what a call posted. */
  get postCount(): number {
    return this.posts;
  }

  private print(text: string, content?: ChatMessage): void {
    if (content) for (const watch of this.watchers) watch(renderForShell(content));
    this.printer(text);
  }

  private channel(ref: ChannelRef): SimulatedChannel {
    let channel = this.channels.get(ref);
    if (!channel) {
      channel = {
        name: channelName(ref),
        private: false,
        members: new Set(),
        present: new Set(),
        archived: false,
        seq: 0,
      };
      this.channels.set(ref, channel);
    }
    return channel;
  }

  async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    let ref = shellChannel(spec.name);
    for (let n = 2; this.channels.has(ref); n++) ref = shellChannel(`${spec.name}-${n}`);
    const channel = this.channel(ref);
    channel.private = spec.private;
    this.print(
      `  ┊ simulated ${spec.private ? 'private ' : ''}channel ${channel.name} created${spec.topic ? `: ${spec.topic}` : ''}`,
    );
    return ref;
  }

  async invite(ref: ChannelRef, users: readonly UserRef[]): Promise<void> {
    const channel = this.channel(ref);
    const fresh = users.filter((u) => !channel.members.has(u));
    for (const u of fresh) channel.members.add(u);
    if (fresh.length) this.print(`  ┊ ${channel.name}: invited ${fresh.map(userName).join(', ')}`);
  }

  async archive(ref: ChannelRef): Promise<void> {
    this.channel(ref).archived = true;
    this.print(`  ┊ ${channelName(ref)} archived`);
  }

  /** Idempotency keys are not used: the simulated channels end with the process anyway. */
  async post(
    ref: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    const channel = this.channel(ref);
    const id = shellMessage(ref, ++channel.seq);
    this.posts++;
    if (!options?.thread) this.remember(id, ref, message);
    const where = options?.thread
      ? `${channel.name} thread ${options.thread.split('/').pop()}`
      : channel.name;
    this.print(renderForShell(message, `  ┊ [${where} #${channel.seq}] `, '  ┊'), message);
    return id;
  }

  channelOf(message: MessageRef): ChannelRef {
    return channelOfMessage(message);
  }

  /** As the simulated channel was created; direct messages (`@kadri`) are private. */
  async isPrivate(ref: ChannelRef): Promise<boolean> {
    return channelName(ref).startsWith('@') || (this.channels.get(ref)?.private ?? false);
  }

  async update(message: MessageRef, content: ChatMessage): Promise<void> {
    const card = this.cards.get(message);
    if (card) card.message = content;
    const channel = channelOfMessage(message);
    this.print(
      renderForShell(
        content,
        `  ┊ [${channelName(channel)} #${message.split('/').pop()} edited] `,
        '  ┊',
      ),
      content,
    );
  }

  async postEphemeral(ref: ChannelRef, user: UserRef, message: ChatMessage): Promise<void> {
    this.print(
      renderForShell(message, `  ┊ [${channelName(ref)}, only ${userName(user)} sees] `, '  ┊'),
      message,
    );
  }

  async sendDirect(user: UserRef, message: ChatMessage): Promise<MessageRef> {
    const ref = shellDirect(user);
    const channel = this.channel(ref);
    const id = shellMessage(ref, ++channel.seq);
    this.posts++;
    this.remember(id, ref, message);
    this.print(
      renderForShell(message, `  ┊ [direct message to ${userName(user)} #${channel.seq}] `, '  ┊'),
      message,
    );
    return id;
  }

  async pin(message: MessageRef): Promise<void> {
    this.print(
      `  ┊ ${channelName(channelOfMessage(message))}: pinned #${message.split('/').pop()}`,
    );
  }

  private remember(ref: MessageRef, channel: ChannelRef, message: ChatMessage): void {
    this.cards.set(ref, { ref, channel, message, order: ++this.order });
  }

  /** Someone is in a simulated channel from now on: they spoke there in the shell. */
  enter(ref: ChannelRef, user: UserRef): void {
    if (!channelName(ref).startsWith('@')) this.channel(ref).present.add(user);
  }

  /** Whether the shell has this channel: the bot made or used it, or someone was in it. */
  knows(ref: ChannelRef): boolean {
    return this.channels.has(ref);
  }

  /**
   * Whether a message in `channel` reached `user`: a direct message to them, or a post in a
   * channel they are in (invited by the bot, or they spoke there in the shell).
   */
  reached(channel: ChannelRef, user: UserRef): boolean {
    if (channel === shellDirect(user)) return true;
    const simulated = this.channels.get(channel);
    return (simulated?.members.has(user) || simulated?.present.has(user)) ?? false;
  }

  /** The top-level messages `user` received whose title names `subject`, newest first. */
  cardsAbout(subject: string, user: UserRef): PostedCard[] {
    const names = titleNames(subject);
    return [...this.cards.values()]
      .filter((card) => names(card.message.title ?? '') && this.reached(card.channel, user))
      .sort((a, b) => b.order - a.order);
  }

  /**
   * A message a person (not the bot) says in a simulated channel or thread: it gets a reference
   * there, as on a platform, for the core to relay. Not printed: the echoed line shows it.
   */
  say(channel: ChannelRef, user: UserRef): MessageRef {
    this.enter(channel, user);
    return shellMessage(channel, ++this.channel(channel).seq);
  }

  /** The simulated channel named `inc-2026-1-…` for incident `INC-2026-1`, the newest first. */
  incidentChannel(ref: string): ChannelRef | null {
    const head = `#${ref.toLowerCase()}`;
    const found = [...this.channels.entries()]
      .filter(([, c]) => c.name === head || c.name.startsWith(`${head}-`))
      .map(([key]) => key as ChannelRef);
    return found.at(-1) ?? null;
  }
}

/** A test for a title naming `ref` as a whole word: AR-2026-1 is not in AR-2026-10. */
function titleNames(ref: string): (title: string) => boolean {
  const escaped = ref.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(?<![A-Za-z0-9-])${escaped}(?![A-Za-z0-9])`, 'i');
  return (title) => pattern.test(title);
}
