import { usageError } from '../errors.js';
import { clip } from './values.js';

/** A word of a command line. `key` is set for `key:value` words. */
export interface Token {
  text: string;
  /** The word was quoted as a whole (`"two words"`): never an option, never a subcommand. */
  quoted: boolean;
  key?: string;
}

// Phones and Slack turn " into typographic quotes; accept both kinds.
const OPENING = new Set(['"', '\u201c', '\u201e']);
const CLOSING: Record<string, string[]> = {
  '"': ['"', '\u201d', '\u201c'],
  '\u201c': ['\u201d', '"', '\u201c'],
  '\u201e': ['\u201c', '\u201d', '"'],
};
const OPTION_KEY = /^([a-z][a-z0-9-]*):/;

const isSpace = (c: string) => /\s/.test(c);

/**
 * Splits a line into words: whitespace separates, double quotes group (`key:"two words"`,
 * `"a: literal"`), backslash escapes a quote inside quotes, and Slack's `<...>` escapes stay whole. A lowercase `key:` prefix makes an
 * option word, unless what follows is `//` (a URL).
 */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSpace(line.charAt(i))) i++;
    if (i >= line.length) break;
    let text = '';
    let quotedWhole = false;
    let key: string | undefined;
    const start = i;
    while (i < line.length && !isSpace(line.charAt(i))) {
      const c = line.charAt(i);
      if (OPENING.has(c)) {
        if (i === start) quotedWhole = true;
        else if (key === undefined) {
          const m = OPTION_KEY.exec(text);
          if (m && m[0].length === text.length) key = m[1];
        }
        const closers = CLOSING[c] ?? ['"'];
        i++;
        let closed = false;
        while (i < line.length) {
          const d = line.charAt(i);
          if (
            d === '\\' &&
            i + 1 < line.length &&
            (closers.includes(line.charAt(i + 1)) || line.charAt(i + 1) === '\\')
          ) {
            text += line.charAt(i + 1);
            i += 2;
            continue;
          }
          if (closers.includes(d)) {
            closed = true;
            i++;
            break;
          }
          text += d;
          i++;
        }
        if (!closed) throw usageError(`unclosed quote in: ${clip(line.slice(start))}`);
        continue;
      }
      // Slack's escapes (`<@U123|Jaan Tamm>`, `<#C1|ops>`, `<https://x|a link>`) may hold spaces.
      if (c === '<') {
        const end = line.indexOf('>', i);
        if (end > i && !line.slice(i + 1, end).includes('<')) {
          text += line.slice(i, end + 1);
          i = end + 1;
          continue;
        }
      }
      text += c;
      i++;
    }
    if (quotedWhole) {
      tokens.push({ text, quoted: true });
      continue;
    }
    if (key !== undefined) {
      tokens.push({ text: text.slice(key.length + 1), quoted: false, key });
      continue;
    }
    const m = OPTION_KEY.exec(text);
    if (m?.[1] && !text.slice(m[0].length).startsWith('//')) {
      tokens.push({ text: text.slice(m[0].length), quoted: false, key: m[1] });
    } else {
      tokens.push({ text, quoted: false });
    }
  }
  return tokens;
}
