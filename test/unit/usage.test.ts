import { describe, expect, it } from 'vitest';
import { renderPlainText, TLP_LEVELS, tlpLabel } from '../../src/chat/message.js';
import { parseCommand } from '../../src/commands/parse.js';
import { concordCommands } from '../../src/commands/registry.js';
import type { CommandSpec, OptionType, SubcommandSpec } from '../../src/commands/spec.js';
import { createRegistry } from '../../src/commands/spec.js';
import { commandUsage, usageLine } from '../../src/commands/usage.js';

const registry = concordCommands();
const pairs: [string, CommandSpec, SubcommandSpec][] = registry.commands.flatMap((spec) =>
  spec.subcommands.map((sub): [string, CommandSpec, SubcommandSpec] => [
    `/${spec.name} ${sub.name}`,
    spec,
    sub,
  ]),
);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('usage lines of every real command', () => {
  it('covers the commands of design section 2 that exist', () => {
    expect(pairs.map(([name]) => name)).toEqual(
      expect.arrayContaining(['/poc set', '/poc who', '/org add', '/org member', '/concord help']),
    );
  });

  it.each(pairs)('%s starts with its command and subcommand', (_, spec, sub) => {
    const line = usageLine(spec, sub);
    // A default subcommand runs without its name (`/alert <text>`), so its usage leaves it out.
    const prefix =
      spec.defaultSubcommand === sub.name ? `/${spec.name}` : `/${spec.name} ${sub.name}`;
    expect(line === prefix || line.startsWith(`${prefix} `)).toBe(true);
    expect(line).not.toContain('\n');
  });

  it.each(pairs)('%s lists every option as key:, bracketed when optional', (_, spec, sub) => {
    const line = usageLine(spec, sub);
    for (const option of sub.options) {
      const key = escapeRegExp(`${option.name}:`);
      expect(line).toMatch(new RegExp(`(?:^|\\s|\\[)${key}\\S`));
      if (option.required) expect(line).toMatch(new RegExp(`(?:^|\\s)${key}`));
      else expect(line).toMatch(new RegExp(`\\[${key}`));
    }
  });

  it.each(pairs.filter(([, , sub]) => sub.positional))(
    '%s shows its positional, bracketed when optional',
    (_, spec, sub) => {
      const line = usageLine(spec, sub);
      const positional = sub.positional;
      if (!positional) throw new Error('filtered on positional');
      const shown =
        positional.placeholder ??
        (positional.type === 'user' ? `<@${positional.name}>` : `<${positional.name}>`);
      if (positional.required) expect(` ${line} `).toContain(` ${shown} `);
      else expect(` ${line} `).toContain(` [${shown.replace(/^<(.*)>$/, '$1')}] `);
    },
  );

  it('puts the person last in /poc set, as design section 2 writes it', () => {
    const spec = registry.find('poc');
    const sub = spec?.subcommands.find((s) => s.name === 'set');
    if (!spec || !sub) throw new Error('no /poc set');
    expect(usageLine(spec, sub)).toBe(
      '/poc set org:<code> capability:<tag> <@primary> [backup:<@user,...>]',
    );
  });

  it('shows enum choices and parses a line built from the first of each', () => {
    const spec = registry.find('org');
    const sub = spec?.subcommands.find((s) => s.name === 'add');
    if (!spec || !sub) throw new Error('no /org add');
    const line = usageLine(spec, sub);
    expect(line).toContain('kind:delegation|industry|organiser');
    const { input } = parseCommand('/org add EST name:"Estonia" kind:delegation', registry);
    expect(input.string('kind')).toBe('delegation');
  });

  it('gives one line per subcommand in commandUsage', () => {
    for (const spec of registry.commands) {
      const lines = commandUsage(spec).split('\n');
      expect(lines).toEqual(spec.subcommands.map((sub) => usageLine(spec, sub)));
    }
  });

  it('has a placeholder for every option type', () => {
    const types: OptionType[] = [
      'text',
      'word',
      'enum',
      'user',
      'users',
      'org',
      'orgs',
      'capability',
      'datetime',
      'date',
      'zone',
      'duration',
      'durations',
      'boolean',
    ];
    const sub: SubcommandSpec = {
      name: 'all',
      summary: 'every type',
      options: types.map((type) => ({
        name: `o-${type}`,
        type,
        description: type,
        ...(type === 'enum' ? { choices: ['a', 'b'] } : {}),
      })),
      permission: { kind: 'anyone' },
      handler: async () => ({ visibility: 'private', message: {} }),
    };
    const spec: CommandSpec = { name: 'probe', summary: 'probe', subcommands: [sub] };
    expect(createRegistry([spec]).find('probe')).toBe(spec);
    const line = usageLine(spec, sub);
    for (const type of types) expect(line).toMatch(new RegExp(`\\[o-${type}:[^\\]\\s]+\\]`));
    expect(line).toContain('[o-enum:a|b]');
    expect(line).toContain('[o-boolean:true|false]');
  });
});

describe('renderPlainText and TLP labels', () => {
  it('puts TLP:AMBER first for amber', () => {
    const text = renderPlainText({ tlp: 'amber', title: 'Phishing wave', body: 'details' });
    const [first, ...rest] = text.split('\n');
    expect(first).toBe('TLP:AMBER Phishing wave');
    expect(rest).toEqual(['details']);
  });

  it('puts TLP:AMBER+STRICT first for amber+strict', () => {
    const text = renderPlainText({ tlp: 'amber+strict', title: 'Ransomware', footer: 'f' });
    expect(text.split('\n')[0]).toBe('TLP:AMBER+STRICT Ransomware');
  });

  it('puts the label first even without a title', () => {
    const text = renderPlainText({
      tlp: 'red',
      fields: [{ label: 'Severity', value: 'high' }],
      body: 'b',
    });
    expect(text.split('\n')).toEqual(['TLP:RED', 'Severity: high', 'b']);
  });

  it('shows no label when the message has no TLP', () => {
    const text = renderPlainText({ title: 'Hello', body: 'world' });
    expect(text).toBe('Hello\nworld');
    expect(text).not.toContain('TLP:');
  });

  it('writes every level as FIRST does', () => {
    expect(TLP_LEVELS.map(tlpLabel)).toEqual([
      'TLP:CLEAR',
      'TLP:GREEN',
      'TLP:AMBER',
      'TLP:AMBER+STRICT',
      'TLP:RED',
    ]);
  });

  it('renders fields, body, buttons and footer in order', () => {
    const text = renderPlainText({
      tlp: 'green',
      title: 'T',
      fields: [{ label: 'A', value: '1' }],
      body: 'line 1\nline 2',
      buttons: [
        { action: 'x.accept', value: '1', label: 'Accept' },
        { action: 'x.decline', value: '1', label: 'Decline' },
      ],
      footer: 'Usage: /x',
    });
    expect(text.split('\n')).toEqual([
      'TLP:GREEN T',
      'A: 1',
      'line 1',
      'line 2',
      '[Accept] [Decline]',
      'Usage: /x',
    ]);
  });
});
