import { describe, expect, it } from 'vitest';
import { MAX_LINE_LENGTH, type ParsedCommand, parseCommand } from '../../src/commands/parse.js';
import { concordCommands } from '../../src/commands/registry.js';
import { type CommandRegistry, createRegistry } from '../../src/commands/spec.js';
import { ConcordError } from '../../src/errors.js';
import { probeCommand } from '../support/probe-command.js';

const real = concordCommands();

const probe = probeCommand;

const test = createRegistry([probe]);

function parse(line: string, registry: CommandRegistry = real): ParsedCommand {
  return parseCommand(line, registry);
}

/** The usage error `line` is rejected with; fails the test on success or on any other error. */
function rejection(line: string, registry: CommandRegistry = real): ConcordError {
  try {
    parseCommand(line, registry);
  } catch (error) {
    if (error instanceof ConcordError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(line)} to be rejected`);
}

/** A usage error with a one-line reason and a usage to show, as design section 2 requires. */
function expectUsageError(
  line: string,
  registry: CommandRegistry = real,
  reason?: RegExp,
): ConcordError {
  const error = rejection(line, registry);
  expect(error.code).toBe('usage');
  expect(error.message).not.toBe('');
  expect(error.message).not.toContain('\n');
  expect(error.usage).toMatch(/^\//);
  if (reason) expect(error.message).toMatch(reason);
  return error;
}

describe('parseCommand against the real registry', () => {
  it('reads /poc set with every kind of value', () => {
    const { spec, sub, input } = parse(
      '/poc set org:est capability:Incident-Response <@U123> backup:@Alice,<@U456|bob>',
    );
    expect(spec.name).toBe('poc');
    expect(sub.name).toBe('set');
    expect(input.command).toBe('poc');
    expect(input.subcommand).toBe('set');
    expect(input.string('org')).toBe('EST');
    expect(input.string('capability')).toBe('incident-response');
    expect(input.mention('primary')).toEqual({ kind: 'slack', id: 'U123', raw: '<@U123>' });
    expect(input.mentions('backup')).toEqual([
      { kind: 'handle', id: 'alice', raw: '@Alice' },
      { kind: 'slack', id: 'U456', label: 'bob', raw: '<@U456|bob>' },
    ]);
  });

  it('accepts options and the positional in any order', () => {
    const { input } = parse('/poc set @bob capability:forensics org:DEU');
    expect(input.mention('primary')).toEqual({ kind: 'handle', id: 'bob', raw: '@bob' });
    expect(input.string('org')).toBe('DEU');
    expect(input.string('capability')).toBe('forensics');
  });

  it('reads command and subcommand names case-insensitively and ignores surrounding space', () => {
    const { spec, sub, input } = parse('   /POC Who forensics   ');
    expect(spec.name).toBe('poc');
    expect(sub.name).toBe('who');
    expect(input.string('capability')).toBe('forensics');
  });

  it('leaves optional options unset', () => {
    const { input } = parse('/poc list');
    expect(input.string('org')).toBeUndefined();
    expect(input.boolean('stale')).toBeUndefined();
    expect(input.values.size).toBe(0);
  });

  it('reads a one-word positional that is optional', () => {
    expect(parse('/concord help poc').input.string('command')).toBe('poc');
    expect(parse('/concord help').input.string('command')).toBeUndefined();
  });

  describe('quoting', () => {
    it('groups a quoted option value: key:"two words"', () => {
      const { input } = parse('/org add ACME name:"Acme Corp Ltd" kind:industry');
      expect(input.string('code')).toBe('ACME');
      expect(input.string('name')).toBe('Acme Corp Ltd');
      expect(input.string('kind')).toBe('industry');
    });

    it('keeps a colon inside a quoted value', () => {
      const { input } = parse('/org add EST name:"Estonia: CERT-EE" kind:delegation');
      expect(input.string('name')).toBe('Estonia: CERT-EE');
    });

    it('accepts typographic quotes as phones and Slack write them', () => {
      expect(
        parse('/org add EST name:\u201cEstonian Delegation\u201d kind:delegation').input.string(
          'name',
        ),
      ).toBe('Estonian Delegation');
      expect(
        parse('/org add DEU name:\u201eDeutsche Delegation\u201c kind:delegation').input.string(
          'name',
        ),
      ).toBe('Deutsche Delegation');
    });

    it('reads an escaped quote inside quotes', () => {
      const { input } = parse('/org add ACME name:"The \\"Best\\" Org" kind:industry');
      expect(input.string('name')).toBe('The "Best" Org');
    });

    it('treats a whole quoted word with a colon as free text, not as an option', () => {
      const { sub, input } = parse('/probe "note: call back" at noon', test);
      expect(sub.name).toBe('say');
      expect(input.string('text')).toBe('note: call back at noon');
    });

    it('never reads a quoted first word as a subcommand', () => {
      const { sub, input } = parse('/probe "all" hands', test);
      expect(sub.name).toBe('say');
      expect(input.string('text')).toBe('all hands');
    });

    it('rejects an unclosed quote', () => {
      const error = rejection('/org add EST name:"Estonian kind:delegation');
      expect(error.code).toBe('usage');
      expect(error.message).toMatch(/unclosed quote/);
      expect(error.message).not.toContain('\n');
    });

    it('answers an unclosed quote with the usage of the command', () => {
      expectUsageError('/org add EST name:"Estonian kind:delegation', real, /unclosed quote/);
    });

    it('keeps the unclosed-quote reason on one line when the quoted part spans lines', () => {
      expectUsageError('/org add EST name:"Estonian\nDelegation kind:delegation', real);
    });
  });

  describe('mentions', () => {
    it.each([
      ['<@U123>', { kind: 'slack', id: 'U123', raw: '<@U123>' }],
      ['<@W0ABC12>', { kind: 'slack', id: 'W0ABC12', raw: '<@W0ABC12>' }],
      ['<@U123|alice>', { kind: 'slack', id: 'U123', label: 'alice', raw: '<@U123|alice>' }],
      [
        '<@123456789012345678>',
        { kind: 'discord', id: '123456789012345678', raw: '<@123456789012345678>' },
      ],
      [
        '<@!123456789012345678>',
        { kind: 'discord', id: '123456789012345678', raw: '<@!123456789012345678>' },
      ],
      ['@Alice.Smith', { kind: 'handle', id: 'alice.smith', raw: '@Alice.Smith' }],
      ['@bob_2', { kind: 'handle', id: 'bob_2', raw: '@bob_2' }],
    ])('reads %s', (written, mention) => {
      const { input } = parse(`/org member ${written} org:EST role:delegate`);
      expect(input.mention('user')).toEqual(mention);
    });

    it.each(['alice', '@', '<@>', '<@u123>', '<@1234>', '<@U123', '@-bob'])(
      'rejects %s as a user',
      (written) => {
        expectUsageError(`/org member ${written} org:EST role:delegate`, real, /is not a user/);
      },
    );
  });

  describe('organisation codes and capabilities', () => {
    it('uppercases organisation codes', () => {
      expect(parse('/poc list org:est').input.string('org')).toBe('EST');
      expect(parse('/org add acme2 name:"Acme" kind:industry').input.string('code')).toBe('ACME2');
    });

    it.each(['E', 'TOOLONGCODE1', 'E-ST', 'ÉST'])('rejects the organisation code %s', (code) => {
      expectUsageError(`/poc list org:${code}`, real, /not an organisation code/);
    });

    it('lowercases capability tags', () => {
      expect(parse('/poc who Malware-Analysis').input.string('capability')).toBe(
        'malware-analysis',
      );
    });

    it.each(['bad_tag', '-lead', 'two.words'])('rejects the capability %s', (tag) => {
      expectUsageError(`/poc who ${tag}`, real, /not a capability tag/);
    });

    it('reads a list of organisation codes, uppercased', () => {
      expect(parse('/probe all orgs:est,Deu,ACME', test).input.strings('orgs')).toEqual([
        'EST',
        'DEU',
        'ACME',
      ]);
    });
  });

  describe('dates and times', () => {
    it.each([
      ['2027-11-09T10:00', { year: 2027, month: 11, day: 9, hour: 10, minute: 0, second: 0 }],
      ['2027-11-09T10:00:30', { year: 2027, month: 11, day: 9, hour: 10, minute: 0, second: 30 }],
      ['2027-11-09T23:59', { year: 2027, month: 11, day: 9, hour: 23, minute: 59, second: 0 }],
      [
        '2027-11-09T10:00Z',
        { year: 2027, month: 11, day: 9, hour: 10, minute: 0, second: 0, offsetMinutes: 0 },
      ],
      [
        '2027-11-09T10:00:05+02:00',
        { year: 2027, month: 11, day: 9, hour: 10, minute: 0, second: 5, offsetMinutes: 120 },
      ],
      [
        '2027-11-09T10:00-05:30',
        { year: 2027, month: 11, day: 9, hour: 10, minute: 0, second: 0, offsetMinutes: -330 },
      ],
      ['2028-02-29T00:00', { year: 2028, month: 2, day: 29, hour: 0, minute: 0, second: 0 }],
    ])('reads the datetime %s', (written, value) => {
      expect(parse(`/probe all at:${written}`, test).input.datetime('at')).toEqual(value);
    });

    it('reads a quoted datetime with a space', () => {
      expect(parse('/probe plan at:"2027-11-09 10:00"', test).input.datetime('at')).toEqual({
        year: 2027,
        month: 11,
        day: 9,
        hour: 10,
        minute: 0,
        second: 0,
      });
    });

    it('reads a date', () => {
      expect(parse('/probe all due:2027-11-09', test).input.date('due')).toEqual({
        year: 2027,
        month: 11,
        day: 9,
      });
      expect(parse('/probe all due:2028-02-29', test).input.date('due')).toEqual({
        year: 2028,
        month: 2,
        day: 29,
      });
    });

    it.each([
      '2027-02-29T10:00',
      '2027-13-01T10:00',
      '2027-00-10T10:00',
      '2027-04-31T10:00',
      '2027-11-09T25:00',
      '2027-11-09T10:60',
      '2027-11-09T10:00:60',
      '2027-11-09T10:00+15:00',
      '2027-11-09',
      '09/11/2027 10:00',
      'tomorrow',
    ])('rejects the datetime %s', (written) => {
      expectUsageError(`/probe all at:${written}`, test, /at:|date|time|offset/);
    });

    it.each([
      '2027-02-29',
      '2027-13-01',
      '2027-11-00',
      '1969-12-31',
      '2027-11-09T10:00',
      '27-11-09',
    ])('rejects the date %s', (written) => {
      expectUsageError(`/probe all due:${written}`, test, /date/);
    });
  });

  describe('durations', () => {
    it.each([
      ['90s', 90_000],
      ['15m', 900_000],
      ['2h', 7_200_000],
      ['7d', 604_800_000],
      ['3650d', 3650 * 86_400_000],
    ])('reads %s as %d ms', (written, ms) => {
      expect(parse(`/probe all every:${written}`, test).input.duration('every')).toBe(ms);
    });

    it('reads a list of durations', () => {
      expect(parse('/probe all remind:30d,7d,1d,1h', test).input.durations('remind')).toEqual([
        30 * 86_400_000,
        7 * 86_400_000,
        86_400_000,
        3_600_000,
      ]);
    });

    it.each(['0m', '5x', '999999d', '3651d', '1.5h', '-5m', 'm', '15'])(
      'rejects the duration %s',
      (written) => {
        expectUsageError(`/probe all every:${written}`, test, /duration|ten years/);
      },
    );

    it('rejects an empty item in a list of durations', () => {
      expectUsageError('/probe all remind:7d,,1d', test, /empty item/);
    });
  });

  describe('time zones', () => {
    it.each([
      ['europe/tallinn', 'Europe/Tallinn'],
      ['Europe/Brussels', 'Europe/Brussels'],
      ['AMERICA/NEW_YORK', 'America/New_York'],
      ['UTC', 'UTC'],
    ])('canonicalises %s to %s', (written, zone) => {
      expect(parse(`/probe all tz:${written}`, test).input.string('tz')).toBe(zone);
    });

    it('canonicalises the zone of /org member', () => {
      const { input } = parse('/org member @kadri org:EST role:liaison tz:europe/tallinn');
      expect(input.string('tz')).toBe('Europe/Tallinn');
    });

    it.each(['Mars/Olympus_Mons', 'Europe/Atlantis', '+02:00', 'tallinn'])(
      'rejects the zone %s',
      (written) => {
        expectUsageError(`/probe all tz:${written}`, test, /not a time zone/);
      },
    );
  });

  describe('booleans and enums', () => {
    it.each([
      ['true', true],
      ['yes', true],
      ['ON', true],
      ['false', false],
      ['No', false],
      ['off', false],
    ])('reads %s as %s', (written, value) => {
      expect(parse(`/probe all loud:${written}`, test).input.boolean('loud')).toBe(value);
    });

    it('reads stale:true on /poc list', () => {
      expect(parse('/poc list stale:true').input.boolean('stale')).toBe(true);
    });

    it('rejects a boolean that is neither', () => {
      expectUsageError('/probe all loud:maybe', test, /not true or false/);
    });

    it('lowercases an enum choice and rejects one outside the choices', () => {
      expect(parse('/probe all level:HIGH', test).input.string('level')).toBe('high');
      expectUsageError('/probe all level:medium', test, /level: must be one of low, high/);
    });

    it('rejects a word option with a space in it', () => {
      expect(parse('/probe all ref:INC-7', test).input.string('ref')).toBe('INC-7');
      expectUsageError('/probe all ref:"two words"', test, /takes one word/);
    });
  });

  describe('lists', () => {
    it('reads a list of users in order', () => {
      const { input } = parse('/poc set org:EST capability:forensics @p backup:@a,@b');
      expect(input.mentions('backup')?.map((m) => m.id)).toEqual(['a', 'b']);
    });

    it('reads a quoted list with spaces after the commas', () => {
      const { input } = parse('/probe all people:"@a, <@U1AB>, <@123456>"', test);
      expect(input.mentions('people')).toEqual([
        { kind: 'handle', id: 'a', raw: '@a' },
        { kind: 'slack', id: 'U1AB', raw: '<@U1AB>' },
        { kind: 'discord', id: '123456', raw: '<@123456>' },
      ]);
    });

    it('rejects the same user twice', () => {
      expectUsageError(
        '/poc set org:EST capability:forensics @p backup:@a,@a',
        real,
        /backup: lists @a twice/,
      );
    });

    it.each([
      '@Alice,@alice',
      '<@U123>,<@U123|bob>',
      '<@123456789012345678>,<@!123456789012345678>',
    ])('rejects the same user written two ways: %s', (list) => {
      expectUsageError(
        `/poc set org:EST capability:forensics @p backup:${list}`,
        real,
        /backup: lists .* twice/,
      );
    });

    it('keeps the duplicate-user reason on one line', () => {
      expectUsageError('/poc set org:EST capability:forensics @p backup:"a\nb,a\nb"', real);
    });

    it('rejects the same organisation twice, whatever its case', () => {
      expectUsageError('/probe all orgs:EST,est', test, /orgs: lists EST twice/);
    });

    it.each(['@a,,@b', '@a,', ',@a'])('rejects an empty item in %s', (list) => {
      expectUsageError(
        `/poc set org:EST capability:forensics @p backup:${list}`,
        real,
        /empty item/,
      );
    });
  });

  describe('bad input', () => {
    it('rejects a line without a command, pointing at help', () => {
      const error = expectUsageError('hello there', real, /starts with \//);
      expect(error.usage).toBe('/concord help [command]');
      expectUsageError('', real, /starts with \//);
      expectUsageError('/', real, /starts with \//);
    });

    it('rejects an unknown command, naming the real ones', () => {
      const error = expectUsageError('/nope do it', real, /unknown command \/nope/);
      expect(error.message).toContain('/poc');
      expect(error.usage).toBe('/concord help [command]');
    });

    it('rejects an unknown subcommand with the usage of the command', () => {
      const error = expectUsageError('/poc frobnicate', real, /unknown subcommand "frobnicate"/);
      expect(error.usage).toContain('/poc set');
      expect(error.usage).toContain('/poc who');
    });

    it('rejects a missing subcommand', () => {
      expectUsageError('/poc', real, /\/poc needs a subcommand/);
      expectUsageError('/org org:EST', real, /unknown subcommand "org:EST"/);
    });

    it('rejects an unknown option, with the usage of the subcommand', () => {
      const error = expectUsageError(
        '/poc who forensics colour:red',
        real,
        /unknown option colour:/,
      );
      expect(error.usage).toMatch(/^\/poc who /);
    });

    it('rejects an option given twice', () => {
      expectUsageError('/poc who forensics org:EST org:DEU', real, /org: is given twice/);
    });

    it.each(['org:', 'org:""', 'org:"  "'])('rejects an option with an empty value: %s', (opt) => {
      expectUsageError(`/poc who forensics ${opt}`, real, /org: needs a value/);
    });

    it('rejects a missing required option', () => {
      const error = expectUsageError('/poc set capability:forensics @bob', real, /missing org:/);
      expect(error.usage).toMatch(/^\/poc set /);
      expectUsageError('/org add EST kind:delegation', real, /missing name:/);
      expectUsageError('/probe plan', test, /missing at:/);
    });

    it('rejects a missing required positional', () => {
      expectUsageError('/poc set org:EST capability:forensics', real, /missing primary/);
      expectUsageError('/poc who org:EST', real, /missing capability/);
      expectUsageError('/probe', test, /missing text/);
    });

    it('rejects words where the subcommand takes none', () => {
      expectUsageError('/poc confirm now please', real, /unexpected "now please"/);
      expectUsageError('/probe all hello note:x', test, /unexpected "hello"/);
    });

    it('rejects a second word after a one-word positional', () => {
      expectUsageError('/poc who forensics legal', real, /unexpected "legal" after capability/);
      expectUsageError('/concord help poc org', real, /unexpected "org"/);
    });

    it('rejects a line longer than 4000 characters', () => {
      const head = '/probe say ';
      const fits = head + 'a'.repeat(MAX_LINE_LENGTH - head.length);
      expect(fits).toHaveLength(MAX_LINE_LENGTH);
      expect(parse(fits, test).input.string('text')).toHaveLength(MAX_LINE_LENGTH - head.length);
      const error = rejection(`${fits}a`, test);
      expect(error.code).toBe('usage');
      expect(error.message).toMatch(/longer than 4000/);
      expect(error.message).not.toContain('\n');
    });
  });

  describe('free text', () => {
    it('does not read a URL as an option', () => {
      const { input } = parse('/probe see https://example.org/a?b=c:d now', test);
      expect(input.string('text')).toBe('see https://example.org/a?b=c:d now');
    });

    it('keeps a URL given as an option value', () => {
      expect(parse('/probe all note:https://example.org', test).input.string('note')).toBe(
        'https://example.org',
      );
    });

    it('runs the default subcommand when the first word is not a subcommand', () => {
      const { sub, input } = parse('/probe Phishing wave against ministries tlp:AMBER', test);
      expect(sub.name).toBe('say');
      expect(input.string('text')).toBe('Phishing wave against ministries');
      expect(input.string('tlp')).toBe('amber');
    });

    it('still runs a named subcommand of a command with a default', () => {
      const { sub, input } = parse('/probe show INC-7', test);
      expect(sub.name).toBe('show');
      expect(input.string('ref')).toBe('INC-7');
    });

    it('reads a sub with every option type in one line', () => {
      const { input } = parse(
        '/probe all note:"two words" ref:r1 level:low owner:@o people:@a,@b org:est orgs:est,deu ' +
          'cap:Legal at:2027-11-09T10:00 due:2027-11-09 tz:utc every:15m remind:1d loud:no',
        test,
      );
      expect(input.values.size).toBe(14);
      expect(input.string('note')).toBe('two words');
      expect(input.mention('owner')?.id).toBe('o');
      expect(input.strings('orgs')).toEqual(['EST', 'DEU']);
      expect(input.string('cap')).toBe('legal');
      expect(input.string('tz')).toBe('UTC');
      expect(input.duration('every')).toBe(900_000);
      expect(input.durations('remind')).toEqual([86_400_000]);
      expect(input.boolean('loud')).toBe(false);
    });
  });
});
