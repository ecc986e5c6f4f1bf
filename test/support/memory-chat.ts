import { ChatFailure } from '../../src/chat/errors.js';
import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort, PaceRate } from '../../src/chat/port.js';
import {
  type ChannelRef,
  type ChatPlatform,
  channelRef,
  localPart,
  type MessageRef,
  messageRef,
  type UserRef,
} from '../../src/chat/refs.js';

export interface MemoryChannel {
  ref: ChannelRef;
  name: string;
  private: boolean;
  members: Set<UserRef>;
  archived: boolean;
  pins: Set<MessageRef>;
}

export interface MemoryMessage {
  ref: MessageRef;
  channel: ChannelRef;
  thread?: MessageRef;
  message: ChatMessage;
  edits: number;
  /** The idempotency key it was posted under, if any. */
  key?: string;
  /** When it was posted (Date.now()). */
  at: number;
}

/**
 * A chat port held in memory, posing as any platform: for tests of the core's own logic
 * (provisioning, relays, TLP) where the platform's wire format does not matter. Adapter tests use
 * the fake servers instead. `failOn` makes one operation fail the next N times, as a platform would.
 */
export class MemoryChat implements ChatPort {
  readonly channels = new Map<string, MemoryChannel>();
  readonly messages: MemoryMessage[] = [];
  readonly directs: { user: UserRef; message: ChatMessage }[] = [];
  readonly calls: string[] = [];
  /** What `rates` answers: set it to have deliveries paced. */
  paceRates: (target: ChannelRef | UserRef, kind: 'post' | 'update') => PaceRate[] = () => [];
  private readonly failures = new Map<string, { error: () => Error; times: number }>();
  private seq = 0;

  constructor(readonly platform: ChatPlatform) {}

  /** The next `times` calls of `operation` throw what `error` makes. */
  failOn(operation: keyof ChatPort, error: () => Error, times = 1): void {
    this.failures.set(operation, { error, times });
  }

  private enter(operation: keyof ChatPort): void {
    this.calls.push(operation);
    const failure = this.failures.get(operation);
    if (failure && failure.times > 0) {
      failure.times--;
      throw failure.error();
    }
  }

  /** Takes a name as if someone else had made that channel. */
  occupy(name: string): void {
    const ref = channelRef(this.platform, `C${++this.seq}`);
    this.channels.set(ref, {
      ref,
      name,
      private: false,
      members: new Set(),
      archived: false,
      pins: new Set(),
    });
  }

  byName(name: string): MemoryChannel | undefined {
    return [...this.channels.values()].find((c) => c.name === name);
  }

  in(channel: ChannelRef): MemoryMessage[] {
    return this.messages.filter((m) => m.channel === channel);
  }

  async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    this.enter('createChannel');
    if (this.byName(spec.name)) throw new ChatFailure('name_taken', 'name_taken');
    const ref = channelRef(this.platform, `C${++this.seq}`);
    this.channels.set(ref, {
      ref,
      name: spec.name,
      private: spec.private,
      members: new Set(),
      archived: false,
      pins: new Set(),
    });
    return ref;
  }

  async findChannel(name: string): Promise<ChannelRef | null> {
    this.enter('findChannel');
    return this.byName(name)?.ref ?? null;
  }

  private channel(ref: ChannelRef): MemoryChannel {
    const channel = this.channels.get(ref);
    if (!channel) throw new ChatFailure('not_found', `no channel ${ref}`);
    return channel;
  }

  async invite(ref: ChannelRef, users: readonly UserRef[]): Promise<void> {
    this.enter('invite');
    for (const user of users) this.channel(ref).members.add(user);
  }

  async archive(ref: ChannelRef): Promise<void> {
    this.enter('archive');
    this.channel(ref).archived = true;
  }

  async post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    this.enter('post');
    if (this.channel(channel).archived) throw new ChatFailure('rejected', 'is_archived');
    const ref = messageRef(this.platform, `${localPart(channel)}/${++this.seq}`);
    this.messages.push({
      ref,
      channel,
      message,
      edits: 0,
      at: Date.now(),
      ...(options?.thread ? { thread: options.thread } : {}),
      ...(options?.key ? { key: options.key } : {}),
    });
    return ref;
  }

  /** A message posted under `key` to `target` (a user: their direct conversation) since `since`. */
  async findPosted(
    target: ChannelRef | UserRef,
    key: string,
    options: { thread?: MessageRef; since: Date },
  ): Promise<MessageRef | null> {
    this.enter('findPosted');
    const dm = channelRef(this.platform, `D${localPart(target)}`);
    const found = this.messages.find(
      (m) =>
        (m.channel === target || m.channel === dm) &&
        m.key === key &&
        m.thread === options.thread &&
        m.at >= options.since.getTime(),
    );
    return found?.ref ?? null;
  }

  /** `slack:C1/7` is in `slack:C1`; a direct message `slack:Dkadri/8` in `slack:Dkadri`. */
  channelOf(ref: MessageRef): ChannelRef {
    const local = localPart(ref);
    return channelRef(this.platform, local.slice(0, local.lastIndexOf('/')));
  }

  rates(target: ChannelRef | UserRef, kind: 'post' | 'update'): PaceRate[] {
    return this.paceRates(target, kind);
  }

  async isPrivate(ref: ChannelRef): Promise<boolean> {
    this.enter('isPrivate');
    return this.channel(ref).private;
  }

  async update(ref: MessageRef, content: ChatMessage): Promise<void> {
    this.enter('update');
    const message = this.messages.find((m) => m.ref === ref);
    if (!message) throw new ChatFailure('not_found', `no message ${ref}`);
    message.message = content;
    message.edits++;
  }

  async postEphemeral(): Promise<void> {
    this.enter('postEphemeral');
  }

  async sendDirect(
    user: UserRef,
    message: ChatMessage,
    options?: { key?: string },
  ): Promise<MessageRef> {
    this.enter('sendDirect');
    this.directs.push({ user, message });
    // The conversation is a private channel of the bot and the person: its messages have threads.
    const dm = channelRef(this.platform, `D${localPart(user)}`);
    if (!this.channels.has(dm)) {
      this.channels.set(dm, {
        ref: dm,
        name: `@${localPart(user)}`,
        private: true,
        members: new Set([user]),
        archived: false,
        pins: new Set(),
      });
    }
    const ref = messageRef(this.platform, `D${localPart(user)}/${++this.seq}`);
    this.messages.push({
      ref,
      channel: dm,
      message,
      edits: 0,
      at: Date.now(),
      ...(options?.key ? { key: options.key } : {}),
    });
    return ref;
  }

  async pin(ref: MessageRef): Promise<void> {
    this.enter('pin');
    const message = this.messages.find((m) => m.ref === ref);
    if (!message) throw new ChatFailure('not_found', `no message ${ref}`);
    this.channel(message.channel).pins.add(ref);
  }

  channelLink(ref: ChannelRef): string {
    return `https://${this.platform}.example/${localPart(ref)}`;
  }
}
