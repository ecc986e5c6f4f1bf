import { createHash } from 'node:crypto';
import type { types } from '@slack/bolt';
import {
  type ChatMessage,
  type MessageButton,
  renderPlainText,
  tlpLabel,
} from '../../src/chat/message.js';

type Block = types.KnownBlock;
type Button = types.Button;

/** A message as Slack takes it: blocks to show, and `text` for notifications and old clients. */
export interface SlackRendered {
  text: string;
  blocks: Block[];
}

// Slack's limits: 3000 characters of section text, 10 fields per section, 25 elements per
// actions block, 75 characters of button label, 50 blocks per message.
const SECTION_TEXT = 3000;
const FIELDS_PER_SECTION = 10;
const BUTTONS_PER_BLOCK = 25;
const BUTTON_LABEL = 75;
const MAX_BLOCKS = 50;

/** Slack reads `&`, `<` and `>` as markup (links, mentions); text from people must not be. */
export const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Long bodies become several sections, cut at line breaks where possible. */
function splitText(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = rest.lastIndexOf('\n', max);
    const at = cut > max / 2 ? cut : max;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  if (rest) parts.push(rest);
  return parts;
}

const mrkdwnSection = (text: string): Block => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
});

function button(b: MessageButton): Button {
  return {
    type: 'button',
    action_id: b.action,
    value: b.value,
    text: { type: 'plain_text', text: clip(b.label, BUTTON_LABEL), emoji: true },
    ...(b.style ? { style: b.style } : {}),
  };
}

/**
 * Buttons in actions blocks. Slack rejects a block in which two elements share an `action_id`
 * (e.g. two Accept buttons for two requests), so a repeated action starts a new block.
 */
function actionBlocks(buttons: readonly MessageButton[]): Block[] {
  const blocks: Button[][] = [];
  let current: Button[] = [];
  for (const b of buttons) {
    if (current.length === BUTTONS_PER_BLOCK || current.some((e) => e.action_id === b.action)) {
      blocks.push(current);
      current = [];
    }
    current.push(button(b));
  }
  if (current.length) blocks.push(current);
  return blocks.map((elements) => ({ type: 'actions', elements }));
}

/**
 * The block id that tags a message posted under an idempotency key, so `SlackChat.findPosted`
 * can tell it in the channel's history: chat.postMessage has no key of its own. A hash, because
 * keys carry platform references and may be long; 22 base64url characters are 132 bits.
 */
export const keyBlockId = (key: string) =>
  `concord-${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;

/**
 * Renders the core's message model as Slack blocks: the TLP label first, the title bold,
 * fields side by side, the body as mrkdwn, buttons (action_id = the core's action, value = its
 * id), and the footer as a dimmed context line. The fallback text is the plain-text rendering.
 * With `key`, the first block carries `keyBlockId(key)`, the only block id in the message.
 */
export function renderForSlack(
  message: ChatMessage,
  options: { key?: string } = {},
): SlackRendered {
  const blocks: Block[] = [];
  const head = [
    message.tlp ? `\`${tlpLabel(message.tlp)}\`` : '',
    message.title ? `*${escapeMrkdwn(message.title)}*` : '',
  ]
    .filter(Boolean)
    .join(' ');
  if (head) blocks.push(mrkdwnSection(clip(head, SECTION_TEXT)));
  for (const group of chunks(message.fields ?? [], FIELDS_PER_SECTION)) {
    blocks.push({
      type: 'section',
      fields: group.map((f) => ({
        type: 'mrkdwn' as const,
        text: clip(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, 2000),
      })),
    });
  }
  for (const part of splitText(escapeMrkdwn(message.body ?? ''), SECTION_TEXT)) {
    blocks.push(mrkdwnSection(part));
  }
  blocks.push(...actionBlocks(message.buttons ?? []));
  if (message.footer) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(message.footer), SECTION_TEXT) }],
    });
  }
  const text = escapeMrkdwn(renderPlainText(message));
  if (options.key) {
    // A message with nothing but fallback text still needs a block to carry the tag.
    const [first = mrkdwnSection(clip(text || ' ', SECTION_TEXT)), ...rest] = blocks;
    blocks.splice(0, blocks.length, { ...first, block_id: keyBlockId(options.key) }, ...rest);
  }
  // Past Slack's block limit the text fallback still carries everything.
  return { text, blocks: blocks.slice(0, MAX_BLOCKS) };
}
