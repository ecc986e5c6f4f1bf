import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort, PaceRate } from '../../src/chat/port.js';
import {
  type ChannelRef,
  channelRef,
  localPart,
  type MessageRef,
  messageRef,
  type UserRef,
} from '../../src/chat/refs.js';

export interface Recorded {
  kind: 'post' | 'direct';
  to: string;
  message: ChatMessage;
  /** When it reached the port (Date.now()), for lateness measurements. */
  at: number;
  /** The reference the port answered with. */
  ref: MessageRef;
  /** For a post in a thread: the message it hangs off. */
  thread?: MessageRef;
  /** The idempotency key it was posted under, if any. */
  key?: string;
}

/** An edit of an earlier message, as `update` received it. */
export interface RecordedUpdate {
  ref: MessageRef;
  message: ChatMessage;
  at: number;
}

/**
 * A chat port for tests and benchmarks of the core: it answers as the shell platform and records
 * every post, direct message and edit with the time it arrived. `failNext` makes the next posts
 * (not edits) throw, as a platform outage would; `paceRates` is what `rates` answers.
 * `findPosted` finds what was recorded under a key, as a platform that can be asked would.
 */
export class RecordingChat implements ChatPort {
  readonly platform = 'shell' as const;
  readonly sent: Recorded[] = [];
  readonly updates: RecordedUpdate[] = [];
  failNext = 0;
  paceRates: (target: ChannelRef | UserRef, kind: 'post' | 'update') => PaceRate[] = () => [];
  private seq = 0;

  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('platform unavailable (simulated)');
    }
  }

  async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    return channelRef('shell', `#${spec.name}`);
  }
  async invite(): Promise<void> {}
  async archive(): Promise<void> {}
  async post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    this.maybeFail();
    const ref = messageRef('shell', `${localPart(channel)}/${++this.seq}`);
    this.sent.push({
      kind: 'post',
      to: channel,
      message,
      at: Date.now(),
      ref,
      ...(options?.thread ? { thread: options.thread } : {}),
      ...(options?.key ? { key: options.key } : {}),
    });
    return ref;
  }
  async update(ref: MessageRef, message: ChatMessage): Promise<void> {
    this.updates.push({ ref, message, at: Date.now() });
  }
  async postEphemeral(): Promise<void> {}
  async sendDirect(
    user: UserRef,
    message: ChatMessage,
    options?: { key?: string },
  ): Promise<MessageRef> {
    this.maybeFail();
    const ref = messageRef('shell', `@${localPart(user)}/${++this.seq}`);
    this.sent.push({
      kind: 'direct',
      to: user,
      message,
      at: Date.now(),
      ref,
      ...(options?.key ? { key: options.key } : {}),
    });
    return ref;
  }
  async findPosted(
    target: ChannelRef | UserRef,
    key: string,
    options: { thread?: MessageRef; since: Date },
  ): Promise<MessageRef | null> {
    const found = this.sent.find(
      (s) =>
        s.to === target &&
        s.key === key &&
        s.thread === options.thread &&
        s.at >= options.since.getTime(),
    );
    return found?.ref ?? null;
  }
  /** `shell:#ops/3` is in `shell:#ops`; a direct message `shell:@kadri/4` in `shell:@kadri`. */
  channelOf(message: MessageRef): ChannelRef {
    const local = localPart(message);
    return channelRef('shell', local.slice(0, local.lastIndexOf('/')));
  }
  rates(target: ChannelRef | UserRef, kind: 'post' | 'update'): PaceRate[] {
    return this.paceRates(target, kind);
  }
}
