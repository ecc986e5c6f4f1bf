import type { Writable } from 'node:stream';
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
  members: Set<string>;
  archived: boolean;
  seq: number;
}

/**
 * The chat port for a terminal: channels and direct messages are simulated in memory and every
 * post is printed, marked `┊` so it reads apart from the answers to the speaker's commands.
 */
export class ShellChat implements ChatPort {
  readonly platform = 'shell' as const;
  private readonly channels = new Map<string, SimulatedChannel>();

  constructor(private readonly out: Writable) {}

  private print(text: string): void {
    this.out.write(`${text}\n`);
  }

  private channel(ref: ChannelRef): SimulatedChannel {
    let channel = this.channels.get(ref);
    if (!channel) {
      channel = {
        name: channelName(ref),
        private: false,
        members: new Set(),
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
    const where = options?.thread
      ? `${channel.name} thread ${options.thread.split('/').pop()}`
      : channel.name;
    this.print(renderForShell(message, `  ┊ [${where} #${channel.seq}] `, '  ┊'));
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
    const channel = channelOfMessage(message);
    this.print(
      renderForShell(
        content,
        `  ┊ [${channelName(channel)} #${message.split('/').pop()} edited] `,
        '  ┊',
      ),
    );
  }

  async postEphemeral(ref: ChannelRef, user: UserRef, message: ChatMessage): Promise<void> {
    this.print(
      renderForShell(message, `  ┊ [${channelName(ref)}, only ${userName(user)} sees] `, '  ┊'),
    );
  }

  async sendDirect(user: UserRef, message: ChatMessage): Promise<MessageRef> {
    const ref = shellDirect(user);
    const channel = this.channel(ref);
    const id = shellMessage(ref, ++channel.seq);
    this.print(
      renderForShell(message, `  ┊ [direct message to ${userName(user)} #${channel.seq}] `, '  ┊'),
    );
    return id;
  }

  async pin(message: MessageRef): Promise<void> {
    this.print(
      `  ┊ ${channelName(channelOfMessage(message))}: pinned #${message.split('/').pop()}`,
    );
  }
}
