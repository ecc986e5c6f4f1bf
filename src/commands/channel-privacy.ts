import { platformOf } from '../chat/refs.js';
import type { CommandContext } from './spec.js';

/**
 * Whether the channel a command was run in is private, asked of its platform now; null when the
 * platform cannot say (no adapter, no way to ask, or the question failed). The TLP rules treat
 * null as not private.
 */
export async function channelIsPrivate(ctx: CommandContext): Promise<boolean | null> {
  const port = ctx.chat.has(platformOf(ctx.channel)) ? ctx.chat.for(ctx.channel) : null;
  if (!port?.isPrivate) return null;
  return port.isPrivate(ctx.channel).catch((err: unknown) => {
    ctx.logger.warn(
      { err: err instanceof Error ? err.message : String(err), channel: ctx.channel },
      'could not tell whether a channel is private',
    );
    return null;
  });
}
