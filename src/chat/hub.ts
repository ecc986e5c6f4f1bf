import type { ChatPort } from './port.js';
import {
  type ChannelRef,
  type ChatPlatform,
  type MessageRef,
  platformOf,
  type UserRef,
} from './refs.js';

/** The adapters that are on, found by the platform of the reference at hand. */
export class ChatHub {
  private readonly ports = new Map<ChatPlatform, ChatPort>();

  register(port: ChatPort): void {
    this.ports.set(port.platform, port);
  }

  has(platform: ChatPlatform): boolean {
    return this.ports.has(platform);
  }

  /** The adapter of a platform; throws when that platform is not running. */
  get(platform: ChatPlatform): ChatPort {
    const port = this.ports.get(platform);
    if (!port) throw new Error(`no ${platform} adapter is running`);
    return port;
  }

  /** The platforms that are running. */
  platforms(): ChatPlatform[] {
    return [...this.ports.keys()];
  }

  for(ref: UserRef | ChannelRef | MessageRef): ChatPort {
    const platform = platformOf(ref);
    const port = this.ports.get(platform);
    if (!port) throw new Error(`no ${platform} adapter is running`);
    return port;
  }
}
