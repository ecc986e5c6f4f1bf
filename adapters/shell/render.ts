import { type ChatMessage, renderPlainText } from '../../src/chat/message.js';

/** Indents a message under the line that produced it; the first line keeps `prefix`. */
export function renderForShell(message: ChatMessage, prefix = '  ', indent = '  '): string {
  const lines = renderPlainText(message).split('\n');
  return lines
    .map((line, i) => (i === 0 ? `${prefix}${line}` : `${indent}${line === '' ? '' : `  ${line}`}`))
    .join('\n');
}
