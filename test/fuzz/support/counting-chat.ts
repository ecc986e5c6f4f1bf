import type { ChatMessage } from '../../../src/chat/message.js';
import type { ChannelSpec, ChatPort } from '../../../src/chat/port.js';
import type { ChannelRef, MessageRef, UserRef } from '../../../src/chat/refs.js';
import { RecordingChat } from '../../support/recording-chat.js';

/**
 * The shell's chat port, counting every call the core makes on it: a refused command must not
 * create, invite, archive, post, edit or send anything either. Behaves as RecordingChat.
 */
export class CountingChat extends RecordingChat implements ChatPort {
  readonly calls: string[] = [];

  override async createChannel(spec: ChannelSpec): Promise<ChannelRef> {
    this.calls.push(`createChannel ${spec.name}`);
    return super.createChannel(spec);
  }
  // RecordingChat declares these without parameters; the core passes them.
  override async invite(channel?: ChannelRef, users?: readonly UserRef[]): Promise<void> {
    this.calls.push(`invite ${channel} ${users?.join(',')}`);
  }
  override async archive(channel?: ChannelRef): Promise<void> {
    this.calls.push(`archive ${channel}`);
  }
  override async post(
    channel: ChannelRef,
    message: ChatMessage,
    options?: { thread?: MessageRef; key?: string },
  ): Promise<MessageRef> {
    this.calls.push(`post ${channel}`);
    return super.post(channel, message, options);
  }
  override async update(ref: MessageRef, message: ChatMessage): Promise<void> {
    this.calls.push(`update ${ref}`);
    return super.update(ref, message);
  }
  override async postEphemeral(): Promise<void> {
    this.calls.push('postEphemeral');
  }
  override async sendDirect(
    user: UserRef,
    message: ChatMessage,
    options?: { key?: string },
  ): Promise<MessageRef> {
    this.calls.push(`sendDirect ${user}`);
    return super.sendDirect(user, message, options);
  }
}
