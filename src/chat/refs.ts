/**
 * Opaque references the core passes around without looking inside. Each is
 * `<platform>:<rest>`, where only the owning adapter knows how to read `<rest>`.
 *
 * @example 'slack:U024BE7LH', 'discord:80351110224678912', 'shell:kadri'
 */
export type UserRef = string & { readonly __brand: 'UserRef' };
/** @example 'slack:C0123ABC', 'discord:1057', 'shell:#general' */
export type ChannelRef = string & { readonly __brand: 'ChannelRef' };
/** @example 'slack:C0123ABC/1700000000.000100', 'shell:#general/12' */
export type MessageRef = string & { readonly __brand: 'MessageRef' };

/** Platforms the core knows by name. */
export type ChatPlatform = 'shell' | 'slack' | 'discord';
export const CHAT_PLATFORMS: readonly ChatPlatform[] = ['shell', 'slack', 'discord'];

/** Builds a user reference; adapters call this with their own ids. */
export const userRef = (platform: ChatPlatform, id: string) => `${platform}:${id}` as UserRef;
/** Builds a channel reference; adapters call this with their own ids. */
export const channelRef = (platform: ChatPlatform, id: string) => `${platform}:${id}` as ChannelRef;
/** Builds a message reference; adapters call this with their own ids. */
export const messageRef = (platform: ChatPlatform, id: string) => `${platform}:${id}` as MessageRef;

/** The platform a reference belongs to, so the core can pick the adapter that owns it. */
export function platformOf(ref: UserRef | ChannelRef | MessageRef): ChatPlatform {
  const platform = ref.slice(0, ref.indexOf(':'));
  if (!(CHAT_PLATFORMS as readonly string[]).includes(platform)) {
    throw new Error(`not a chat reference: ${ref}`);
  }
  return platform as ChatPlatform;
}

/** The adapter-owned part of a reference, for the adapter that owns it. */
export function localPart(ref: UserRef | ChannelRef | MessageRef): string {
  return ref.slice(ref.indexOf(':') + 1);
}
