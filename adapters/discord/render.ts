import { ChatFailure } from '../../src/chat/errors.js';
import {
  type ChatMessage,
  type MessageButton,
  renderPlainText,
  type TlpLevel,
  tlpLabel,
} from '../../src/chat/message.js';

/**
 * Core messages as Discord message bodies: the TLP label first, in the message text (so it also
 * shows in notifications), then an embed with the title, fields, body and footer, coloured by
 * the TLP level, and the buttons as action rows. A message too big for an embed falls back to
 * plain text (renderPlainText), clipped to Discord's 2,000 characters.
 */

/** The embed fields Concord fills. */
export interface DiscordEmbed {
  title?: string;
  description?: string;
  color?: number;
  fields?: { name: string; value: string; inline: boolean }[];
  footer?: { text: string };
}

/** A button component; `custom_id` is `<action>|<value>`. */
export interface DiscordButton {
  type: 2;
  style: 1 | 2 | 4;
  label: string;
  custom_id: string;
}

/** A row of up to five buttons. */
export interface DiscordActionRow {
  type: 1;
  components: DiscordButton[];
}

/** A message body for POST/PATCH messages and interaction responses. */
export interface DiscordMessageBody {
  content: string;
  embeds: DiscordEmbed[];
  components: DiscordActionRow[];
  /** Relayed text must never ping @everyone or roles; explicit user mentions still notify. */
  allowed_mentions: { parse: 'users'[] };
}

// FIRST TLP 2.0 colours (RGB on a dark background).
const TLP_COLOURS: Record<TlpLevel, number> = {
  clear: 0xffffff,
  green: 0x33ff00,
  amber: 0xffc000,
  'amber+strict': 0xffc000,
  red: 0xff2b2b,
};
const CONCORD_BLURPLE = 0x5865f2;

const LIMITS = { content: 2000, title: 256, description: 4096, fieldName: 256, fieldValue: 1024 };
const MAX_FIELDS = 25;
const EMBED_TOTAL = 6000;
const FOOTER = 2048;
const CUSTOM_ID = 100;
const BUTTON_LABEL = 80;

/** Shortens text to `max` characters, marking the cut with an ellipsis. */
export const clipText = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/** `<action>|<value>`: what a button press carries back. Discord allows 100 characters. */
export function encodeCustomId(button: Pick<MessageButton, 'action' | 'value'>): string {
  if (button.action.includes('|'))
    throw new ChatFailure('rejected', `button action "${button.action}" contains "|"`);
  const id = `${button.action}|${button.value}`;
  if (id.length > CUSTOM_ID)
    throw new ChatFailure('rejected', `button id longer than ${CUSTOM_ID} characters: ${id}`);
  return id;
}

/** Splits a custom_id on its first `|`; undefined for ids Concord did not make. */
export function decodeCustomId(customId: string): { action: string; value: string } | undefined {
  const bar = customId.indexOf('|');
  if (bar <= 0) return undefined;
  return { action: customId.slice(0, bar), value: customId.slice(bar + 1) };
}

function buttonRows(buttons: readonly MessageButton[] = []): DiscordActionRow[] {
  if (buttons.length > 25) throw new ChatFailure('rejected', 'more than 25 buttons');
  const rows: DiscordActionRow[] = [];
  buttons.forEach((button, i) => {
    const component: DiscordButton = {
      type: 2,
      style: button.style === 'primary' ? 1 : button.style === 'danger' ? 4 : 2,
      label: clipText(button.label, BUTTON_LABEL),
      custom_id: encodeCustomId(button),
    };
    if (i % 5 === 0) rows.push({ type: 1, components: [component] });
    else rows[rows.length - 1]?.components.push(component);
  });
  return rows;
}

/** The embed for a message, or undefined when Discord's embed limits cannot hold it. */
function embedOf(message: ChatMessage): DiscordEmbed | null | undefined {
  const fields = message.fields ?? [];
  if (!message.title && !fields.length && !message.body && !message.footer) return null;
  if (fields.length > MAX_FIELDS) return undefined;
  if ((message.body ?? '').length > LIMITS.description) return undefined;
  if ((message.footer ?? '').length > FOOTER) return undefined;
  const embed: DiscordEmbed = {
    color: message.tlp ? TLP_COLOURS[message.tlp] : CONCORD_BLURPLE,
    ...(message.title ? { title: clipText(message.title, LIMITS.title) } : {}),
    ...(message.body ? { description: message.body } : {}),
    ...(fields.length
      ? {
          fields: fields.map((f) => ({
            name: clipText(f.label || '\u200b', LIMITS.fieldName),
            // Discord refuses empty field values.
            value: clipText(f.value || '—', LIMITS.fieldValue),
            inline: f.value.length <= 40,
          })),
        }
      : {}),
    ...(message.footer ? { footer: { text: message.footer } } : {}),
  };
  const total =
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
  return total > EMBED_TOTAL ? undefined : embed;
}

/** Renders a core message for Discord. */
export function renderMessage(message: ChatMessage): DiscordMessageBody {
  const label = message.tlp ? `**${tlpLabel(message.tlp)}**` : '';
  const embed = embedOf(message);
  const components = buttonRows(message.buttons);
  const allowed_mentions = { parse: ['users' as const] };
  if (embed === undefined) {
    // Too big for an embed: plain text, clipped; the buttons stay buttons.
    const text = renderPlainText({ ...message, buttons: [] });
    return {
      content: clipText(text, LIMITS.content),
      embeds: [],
      components,
      allowed_mentions,
    };
  }
  const content = label || (embed || components.length ? '' : renderPlainText(message) || '…');
  return { content, embeds: embed ? [embed] : [], components, allowed_mentions };
}

/** A short plain line (confirmations, apologies) as a message body. */
export function renderLine(text: string): DiscordMessageBody {
  return {
    content: clipText(text, LIMITS.content),
    embeds: [],
    components: [],
    allowed_mentions: { parse: ['users'] },
  };
}
