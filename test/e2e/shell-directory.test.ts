import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerTo, type ProcessResult, runNpm, scenario } from './run-process.js';

// `npm start < scenario` on the embedded defaults: PGlite and a private redis-server in a fresh
// data directory, exactly as the README's quick start runs it.
let dataDir: string;
let first: ProcessResult;
const env = () => ({ CONCORD_DATA_DIR: dataDir, PORT: '0' });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'concord-e2e-'));
  first = await runNpm(['start'], { env: env(), stdin: scenario('directory.txt') });
}, 90_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start < test/scenarios/directory.txt', () => {
  it('runs the whole script and exits 0 at end of input', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
  });

  it('builds the directory and answers /poc who primary first', () => {
    expect(answerTo(first.stdout, '/org add EST name:"Estonia" kind:delegation')).toBe(
      '  Added EST: Estonia (delegation)',
    );
    expect(
      answerTo(
        first.stdout,
        '/poc set org:EST capability:incident-response @kadri backup:@margus,@liis',
      ),
    ).toBe('  EST incident-response: primary @kadri, backups @margus, @liis');
    const who = answerTo(first.stdout, '/poc who incident-response org:EST').split('\n');
    expect(who[0]).toBe('  Who to call for incident-response');
    expect(who[1]).toBe('    EST — Estonia');
    expect(who[2]).toMatch(
      /^ {6}primary +Kadri Tamm @kadri · shell only · Europe\/Tallinn \(now \d\d:\d\d\) · confirmed \d{4}-\d\d-\d\d \(today\)$/,
    );
    expect(who[3]).toMatch(/^ {6}backup 1 +Margus Saar @margus/);
    expect(who[4]).toMatch(/^ {6}backup 2 +Liis Mägi @liis/);
  });

  it('answers every kind of bad input with one line of reason and the usage', () => {
    const bad: [string, RegExp, ('first' | 'last')?][] = [
      [
        '/frobnicate',
        /^ {2}⚠ unknown command \/frobnicate; the commands are \/concord, \/org, \/poc, \/incident, \/assist, \/alert, \/forum\n {4}Usage: \/concord help \[command\]$/,
      ],
      [
        '/poc frob',
        /^ {2}⚠ unknown subcommand "frob" for \/poc; one of set, who, list, remove, confirm\n {4}Usage: \/poc set/,
      ],
      [
        '/poc who incident-response colour:blue',
        /^ {2}⚠ unknown option colour: for \/poc who .*\n {4}Usage: \/poc who <capability> \[org:<code>\]$/,
      ],
      [
        '/poc set org:EST capability:forensics',
        /^ {2}⚠ missing primary\n {4}Usage: \/poc set org:<code> capability:<tag> <@primary> \[backup:<@user,...>\]$/,
      ],
      ['/org add E name:"E" kind:delegation', /^ {2}⚠ "E" is not an organisation code/],
      [
        '/org member @kadri org:EST role:delegate tz:Mars/Olympus',
        /^ {2}⚠ "Mars\/Olympus" is not a time zone/,
      ],
      ['/poc set org:XXX capability:forensics @kadri', /^ {2}⚠ unknown organisation XXX/],
      ['/poc set org:EST capability:forensics @nobody', /^ {2}⚠ @nobody is not in the directory/],
      [
        '/org add EST name:"Estonia" kind:delegation',
        /^ {2}⚠ EST already exists \(Estonia\)/,
        'last',
      ],
      [
        '/poc set org:EST capability:forensics @kadri backup:@kadri',
        /^ {2}⚠ @kadri is listed twice/,
      ],
      [
        '/poc set org:EST capability:forensics @ann',
        /^ {2}⚠ @ann is not a member of EST \(they are with ACME\)/,
      ],
      ['/poc who "unclosed', /^ {2}⚠ unclosed quote/],
    ];
    for (const [command, expected, which] of bad) {
      const answer = answerTo(first.stdout, command, which);
      expect(answer, command).toMatch(expected);
      const [reason, usage, ...more] = answer.split('\n');
      expect(reason, command).toMatch(/^ {2}⚠ /);
      expect(usage, command).toMatch(/^ {4}Usage: \//);
      // Only an unknown subcommand lists every usage line of its command.
      for (const line of more) expect(line, command).toMatch(/^ {4}\/poc /);
    }
  });

  it('refuses what the speaker may not do, and still helps strangers', () => {
    const lines = first.stdout.split('\n');
    const asAnn = lines.indexOf('#general @operator › as @ann');
    expect(asAnn).toBeGreaterThan(0);
    expect(answerTo(first.stdout, '/org add DEU name:"Germany" kind:delegation')).toMatch(
      /^ {2}⚠ only an admin may do that\n {4}Usage: \/org add/,
    );
    expect(first.stdout).toContain(
      '#general @ann › /poc set org:EST capability:forensics @ann\n  ⚠ only members of EST or an admin may do that',
    );
    expect(answerTo(first.stdout, '/poc confirm')).toBe(
      '  Confirmed 1 role\n    EST incident-response (backup 2)',
    );
    // Switching to someone the directory does not know works, with a one-line warning.
    expect(answerTo(first.stdout, 'as @ann')).toBe('  now speaking as @ann');
    expect(answerTo(first.stdout, 'as @stranger')).toBe(
      "  now speaking as @stranger\n  ⚠ @stranger is not in Concord's directory: Concord answers them as a stranger",
    );
    expect(first.stdout).toMatch(
      /#general @stranger › \/poc who incident-response\n {2}⚠ you are not in Concord's directory yet/,
    );
    expect(first.stdout).toMatch(
      /#general @stranger › \/concord whoami\n {2}You are shell:stranger, not in Concord's directory/,
    );
  });

  it('still knows the contacts in a second run on the same data directory', async () => {
    const again = await runNpm(['start'], { env: env(), stdin: scenario('directory-again.txt') });
    expect(again.code).toBe(0);
    const who = answerTo(again.stdout, '/poc who incident-response org:EST');
    expect(who).toMatch(
      /primary +Kadri Tamm @kadri[\s\S]*backup 1 +Margus Saar @margus[\s\S]*backup 2 +Liis Mägi @liis/,
    );
  }, 60_000);
});
