import type { FakeChannel, SlackWorkspace } from './workspace.js';

/** Web API arguments as they arrived: strings when form-encoded, any JSON value otherwise. */
export type Params = Record<string, unknown>;

/** What a method answers: Slack's `{ ok: true, … }` or `{ ok: false, error }` (always HTTP 200). */
export type Answer = { ok: boolean; [key: string]: unknown };

export interface MethodContext {
  ws: SlackWorkspace;
  /** Scopes granted to the bot token. */
  scopes: ReadonlySet<string>;
  nowMs: number;
}

export type MethodHandler = (ctx: MethodContext, params: Params) => Answer;

export const fail = (error: string, extra: Record<string, unknown> = {}): Answer => ({
  ok: false,
  error,
  ...extra,
});

export function str(params: Params, key: string): string | undefined {
  const value = params[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Slack reads `true`, `1` (and JSON true) as true, anything else as false. */
export function flag(params: Params, key: string): boolean {
  const value = params[key];
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** A comma-separated list (`users=U1,U2`) or, in JSON bodies, an array. */
export function list(params: Params, key: string): string[] {
  const value = params[key];
  const items = Array.isArray(value) ? value.map(String) : (str(params, key) ?? '').split(',');
  return items.map((s) => s.trim()).filter(Boolean);
}

/** The bot sees public channels, and private ones and DMs only when it is a member. */
export function visibleChannel(
  ctx: MethodContext,
  id: string | undefined,
): FakeChannel | undefined {
  const channel = id ? ctx.ws.channels.get(id) : undefined;
  if (!channel) return undefined;
  if (channel.is_private || channel.is_im || channel.is_mpim) {
    return channel.members.includes(ctx.ws.bot.userId) ? channel : undefined;
  }
  return channel;
}

/**
 * Blocks as Slack validates them, in part: a JSON array of at most 50 typed blocks, section text
 * at most 3000 characters, block ids at most 255 characters and unique within the message,
 * button labels at most 75, and action ids unique within their block. Returns the parsed blocks,
 * `undefined` when absent, or an error code.
 */
export function parseBlocks(params: Params): unknown[] | undefined | { error: string } {
  const raw = params.blocks;
  if (raw === undefined || raw === '') return undefined;
  let blocks: unknown;
  try {
    blocks = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    return { error: 'invalid_blocks_format' };
  }
  if (!Array.isArray(blocks)) return { error: 'invalid_blocks_format' };
  if (blocks.length > 50) return { error: 'invalid_blocks' };
  const blockIds = new Set<string>();
  for (const block of blocks) {
    if (!isRecord(block) || typeof block.type !== 'string') return { error: 'invalid_blocks' };
    if (block.block_id !== undefined) {
      const id = block.block_id;
      if (typeof id !== 'string' || id.length === 0 || id.length > 255 || blockIds.has(id))
        return { error: 'invalid_blocks' };
      blockIds.add(id);
    }
    const text = isRecord(block.text) ? block.text.text : undefined;
    if (typeof text === 'string' && text.length > 3000) return { error: 'invalid_blocks' };
    if (block.type === 'actions') {
      const elements = Array.isArray(block.elements) ? block.elements : [];
      if (elements.length === 0 || elements.length > 25) return { error: 'invalid_blocks' };
      const ids = new Set<string>();
      for (const element of elements) {
        if (!isRecord(element)) return { error: 'invalid_blocks' };
        const id = String(element.action_id ?? '');
        const label = isRecord(element.text) ? String(element.text.text ?? '') : '';
        if (ids.has(id) || label.length > 75) return { error: 'invalid_blocks' };
        ids.add(id);
      }
    }
  }
  return blocks;
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The scope each method needs, as Slack documents it. A method whose scope is not granted answers
 * `missing_scope` with `needed`, as Slack does.
 */
export function scopesFor(method: string, ctx: MethodContext, params: Params): string[] {
  const channel = ctx.ws.channels.get(str(params, 'channel') ?? '');
  const privateTarget = channel ? channel.is_private : flag(params, 'is_private');
  switch (method) {
    case 'conversations.create':
    case 'conversations.invite':
    case 'conversations.archive':
    case 'conversations.setTopic':
      return [privateTarget ? 'groups:write' : 'channels:manage'];
    case 'conversations.list': {
      const types = list(params, 'types');
      return [
        ...(types.length === 0 || types.includes('public_channel') ? ['channels:read'] : []),
        ...(types.includes('private_channel') ? ['groups:read'] : []),
        ...(types.includes('im') ? ['im:read'] : []),
      ];
    }
    case 'conversations.info':
      return [channel?.is_im ? 'im:read' : privateTarget ? 'groups:read' : 'channels:read'];
    case 'conversations.open':
      return [list(params, 'users').length > 1 ? 'mpim:write' : 'im:write'];
    case 'conversations.history':
    case 'conversations.replies':
      return [
        channel?.is_im
          ? 'im:history'
          : channel?.is_mpim
            ? 'mpim:history'
            : privateTarget
              ? 'groups:history'
              : 'channels:history',
      ];
    case 'chat.postMessage':
    case 'chat.update':
    case 'chat.postEphemeral':
      return ['chat:write'];
    case 'pins.add':
      return ['pins:write'];
    case 'users.info':
      return ['users:read'];
    default:
      return [];
  }
}

/**
 * The bot scopes of Concord's app manifest (`adapters/slack/manifest.yaml`), so a call needing
 * anything more fails in tests as it would in a real workspace. Tests take scopes away to see
 * `missing_scope`, or add some for features that need them.
 */
export const DEFAULT_SCOPES = [
  'commands',
  'chat:write',
  'channels:manage',
  'groups:write',
  'channels:read',
  'groups:read',
  'channels:history',
  'groups:history',
  'im:write',
  'im:history',
  'pins:write',
  'users:read',
] as const;
