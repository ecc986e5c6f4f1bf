/**
 * A small rich-text model every adapter can render: Slack blocks, Discord embeds and components,
 * plain text in the shell. The core never builds platform payloads.
 */

/** Traffic Light Protocol 2.0 levels, lowest to highest. */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

/** A labelled value shown beside the others, e.g. `{ label: 'Severity', value: 'high' }`. */
export interface MessageField {
  label: string;
  value: string;
}

/**
 * A button. `action` names what the core does when it is pressed; `value` carries the id it
 * acts on. @example { action: 'assist.accept', value: 'AR-2026-7', label: 'Accept', style: 'primary' }
 */
export interface MessageButton {
  action: string;
  value: string;
  label: string;
  style?: 'primary' | 'danger';
}

export interface ChatMessage {
  /** Shown first as `TLP:AMBER` when set: everything posted on someone's behalf carries one. */
  tlp?: TlpLevel;
  /** One line, bold where the platform has bold. */
  title?: string;
  fields?: MessageField[];
  /** Plain text; `\n` separates lines. Platforms that know Markdown may render `*bold*`. */
  body?: string;
  buttons?: MessageButton[];
  /** A short line shown last and dimmed, e.g. the usage of a command. */
  footer?: string;
}

/** `TLP:AMBER+STRICT` — the label as FIRST writes it. */
export const tlpLabel = (level: TlpLevel) => `TLP:${level.toUpperCase()}`;

/** The message as plain text: used by the shell, by logs, and as every platform's fallback. */
export function renderPlainText(message: ChatMessage): string {
  const lines: string[] = [];
  const head = [message.tlp ? tlpLabel(message.tlp) : '', message.title ?? '']
    .filter(Boolean)
    .join(' ');
  if (head) lines.push(head);
  for (const field of message.fields ?? []) lines.push(`${field.label}: ${field.value}`);
  if (message.body) lines.push(message.body);
  if (message.buttons?.length) {
    lines.push(message.buttons.map((b) => `[${b.label}]`).join(' '));
  }
  if (message.footer) lines.push(message.footer);
  return lines.join('\n');
}
