import type { ChatMessage } from '../../src/chat/message.js';
import type { ChannelSpec, ChatPort } from '../../src/chat/port.js';
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
}

/**
 * A chat port for tests and benchmarks of the core: it answers as the shell platform and records
 * every post and direct message with the time it arrived. `failNext` makes the next posts throw, as a platform outage would.
 */
export class RecordingChat implements ChatPort {
  readonly platform = 'shell' as const;
  readonly sent: Recorded[] = [];
  failNext = 0;
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
  async post(channel: ChannelRef, message: ChatMessage): Promise<MessageRef> {
    this.maybeFail();
    this.sent.push({ kind: 'post', to: channel, message, at: Date.now() });
    return messageRef('shell', `${localPart(channel)}/${++this.seq}`);
  }
  async update(): Promise<void> {}
  async postEphemeral(): Promise<void> {}
  async sendDirect(user: UserRef, message: ChatMessage): Promise<MessageRef> {
    this.maybeFail();
    this.sent.push({ kind: 'direct', to: user, message, at: Date.now() });
    return messageRef('shell', `@${localPart(user)}/${++this.seq}`);
  }
}
