import fc from 'fast-check';
import { ACCEPT, ACKNOWLEDGE, CLOSE, DECLINE } from '../../../src/domain/routing/cards.js';

/** Hostile text for every field the fuzz fills: command words, option values, ids, headers. */

// Characters and pieces that have broken parsers before: quotes of every kind, escapes, Slack's
// `<…>` escapes, separators, controls, bidi overrides, zero-width and combining characters, lone
// surrogates, case-folding surprises, and the usual injection strings.
const HOSTILE_PIECES = [
  '"',
  '\u201c',
  '\u201d',
  '\u201e',
  '\\',
  '\\"',
  '<',
  '>',
  '<@',
  '<@U123|a b>',
  '<@!123456>',
  '<#C123|ops>',
  '<!channel>',
  '<https://x.example|a link>',
  '@',
  '@@',
  ':',
  '::',
  'x:',
  'tlp:',
  'org:',
  'incident:',
  '://',
  '//',
  ',',
  ',,',
  '/',
  '/concord',
  '\u0000',
  // NUL where a reference goes: Postgres text cannot hold it, so it must be refused before.
  'INC-2026-1\u0000',
  'AR-2026-1\u0000x',
  'EW\u0000',
  'a\u0000b',
  '\u0000\u0000',
  '\u0007',
  '\u001b[2J',
  '\u200b',
  '\u200d',
  '\u202e',
  '\u2066',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\n',
  '\r\n',
  '\t',
  '\u2028',
  '\u00a0',
  '\u3000',
  '\u0301',
  '\u{1f600}',
  '\u{1f3f4}\u{e0067}\u{e0062}',
  'İ',
  'ß',
  'ﬃ',
  'K',
  "'; drop table people; --",
  "' or '1'='1",
  '%s%s%n',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection, as plain text
  '${process.exit()}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'NaN',
  '-1',
  '0',
  '1e309',
  '99999999999999999999',
  '+0d',
  '+99999999d',
  'INC-',
  'AR-0-0',
  'EW-2099-1',
  'FS-2099-1',
  '#0',
  '#-1',
];

export const hostilePiece = fc.constantFrom(...HOSTILE_PIECES);

/** One hostile token: a piece, random graphemes, random code points, or a mix. */
export const hostileToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: hostilePiece },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof(hostilePiece, fc.string({ maxLength: 4 })), { minLength: 2, maxLength: 4 })
      .map((parts) => parts.join('')),
  },
);

/** Button actions that are none of the core's, prototype names first. */
export const notAnAction = fc
  .oneof(
    fc.constantFrom(
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'assist.accepted',
      'ASSIST.ACCEPT',
      'assist.accept ',
      'alert',
    ),
    hostileToken,
  )
  .filter((action) => ![ACCEPT, DECLINE, ACKNOWLEDGE, CLOSE].includes(action));
