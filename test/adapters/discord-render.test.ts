import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandLine, quoteValue } from '../../adapters/discord/commands.js';
import { decodeCustomId, renderMessage } from '../../adapters/discord/render.js';
import { ChatFailure } from '../../src/chat/errors.js';
import { concordCommands } from '../../src/commands/registry.js';
import { tokenize } from '../../src/commands/tokenize.js';

// Pure parts of the adapter: rendering and rebuilding command lines.

describe('renderMessage', () => {
  it('puts the TLP label first, the rest in an embed, buttons in rows of five', () => {
    const buttons = Array.from({ length: 7 }, (_, i) => ({
      action: 'assist.accept',
      value: `AR-2026-${i}`,
      label: `B${i}`,
      ...(i === 0 ? { style: 'danger' as const } : {}),
    }));
    const body = renderMessage({
      tlp: 'red',
      title: 'Ransomware',
      fields: [{ label: 'Severity', value: 'high' }],
      body: 'Line one\nLine two',
      footer: 'usage',
      buttons,
    });
    expect(body.content).toBe('**TLP:RED**');
    expect(body.embeds).toEqual([
      {
        color: 0xff2b2b,
        title: 'Ransomware',
        description: 'Line one\nLine two',
        fields: [{ name: 'Severity', value: 'high', inline: true }],
        footer: { text: 'usage' },
      },
    ]);
    expect(body.components.map((row) => row.components.length)).toEqual([5, 2]);
    expect(body.components[0]?.components[0]).toEqual({
      type: 2,
      style: 4,
      label: 'B0',
      custom_id: 'assist.accept|AR-2026-0',
    });
    expect(body.allowed_mentions).toEqual({ parse: ['users'] });
  });

  it('falls back to plain text when an embed cannot hold the message', () => {
    const fields = Array.from({ length: 30 }, (_, i) => ({ label: `F${i}`, value: 'v' }));
    const body = renderMessage({ tlp: 'amber', title: 'Big', fields });
    expect(body.embeds).toEqual([]);
    expect(body.content.startsWith('TLP:AMBER Big\nF0: v')).toBe(true);
  });

  it('refuses a button id over 100 characters, and splits ids on the first bar', () => {
    expect(() =>
      renderMessage({ buttons: [{ action: 'a', value: 'x'.repeat(99), label: 'L' }] }),
    ).toThrow(ChatFailure);
    expect(decodeCustomId('assist.accept|AR|7')).toEqual({
      action: 'assist.accept',
      value: 'AR|7',
    });
    expect(decodeCustomId('no-bar')).toBeUndefined();
  });
});

describe('command lines', () => {
  it('quotes any value so the tokenizer reads it back exactly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (value) => {
        const [token] = tokenize(`key:${quoteValue(value)}`);
        expect(token).toMatchObject({ key: 'key', text: value });
        const [whole] = tokenize(quoteValue(value));
        expect(whole?.text).toBe(value);
        expect(whole?.key).toBeUndefined();
      }),
      // `//`: fast-check found it once in CI; a bare `key://` reads as a URL.
      { numRuns: 500, examples: [['//'], ['//x y']] },
    );
  });

  it('puts the positional first and options in spec order, whatever order Discord sends', () => {
    const line = commandLine(
      {
        name: 'poc',
        options: [
          {
            type: 1,
            name: 'set',
            options: [
              { type: 3, name: 'backup', value: '<@222222222222222222>' },
              { type: 3, name: 'capability', value: 'forensics' },
              { type: 6, name: 'primary', value: '111111111111111111' },
              { type: 3, name: 'org', value: 'ACME' },
            ],
          },
        ],
      },
      concordCommands(),
    );
    expect(line).toBe(
      '/poc set <@111111111111111111> org:ACME capability:forensics backup:<@222222222222222222>',
    );
  });
});
