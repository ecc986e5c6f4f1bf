import { readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contacts, organisations, people } from '../../src/db/schema/index.js';
import { DirectoryFileError, parseDirectoryFile } from '../../src/directory/directory-file.js';
import { importDirectory } from '../../src/domain/directory/import-directory.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';

const SAMPLE = 'src/directory/sample-directory.yaml';
const sampleText = readFileSync(SAMPLE, 'utf8');

let t: TestCore;
beforeEach(async () => {
  t = await makeTestCore();
});
afterEach(() => t.close());

const load = (text: string, source = 'directory.yaml') =>
  importDirectory({
    ctx: { db: t.db, now: t.now },
    input: { file: parseDirectoryFile(text, source) },
  });

/** Parses and imports; returns the error message (or fails the test if there was none). */
async function importError(text: string): Promise<string> {
  try {
    await load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DirectoryFileError);
    return (err as Error).message;
  }
  throw new Error('expected the import to fail');
}

describe('the sample directory', () => {
  it('imports the 32 NATO delegations, companies, people and contacts', async () => {
    const summary = await load(sampleText, SAMPLE);
    const delegations = await t.db
      .select()
      .from(organisations)
      .where(eq(organisations.kind, 'delegation'));
    expect(delegations.map((d) => d.code).sort()).toEqual(
      'ALB BEL BGR CAN CZE DEU DNK ESP EST FIN FRA GBR GRC HRV HUN ISL ITA LTU LUX LVA MKD MNE NLD NOR POL PRT ROU SVK SVN SWE TUR USA'.split(
        ' ',
      ),
    );
    expect(summary.organisations.added).toBe(38);
    expect(summary.people.added).toBe(114);
    expect(summary.contactLists.changed).toBe(87);
    const who = await t.run('/poc who incident-response org:EST');
    expect(who.text).toMatch(/primary +Kadri Tamm @kadri\.tamm/);
  });

  it('imported twice changes nothing and writes no audit rows', async () => {
    await load(sampleText, SAMPLE);
    const before = await tableCounts(t.db);
    const again = await load(sampleText, SAMPLE);
    expect(again.auditRows).toBe(0);
    expect(again.contactLists).toEqual({ changed: 0, unchanged: 87 });
    expect(await tableCounts(t.db)).toEqual(before);
  });
});

const base = `organisations:
  - code: EST
    name: Estonia
    kind: delegation
  - code: ACME
    name: Acme Security Ltd
    kind: industry
people:
  - handle: kadri
    name: Kadri Tamm
    org: EST
    role: delegate
    tz: Europe/Tallinn
    slack: U0EST0001
  - handle: margus
    name: Margus Saar
    org: EST
    role: delegate
    discord: "310000000000000002"
  - handle: ann
    name: Ann Lee
    org: ACME
    role: liaison
contacts:
  - org: EST
    capability: incident-response
    primary: kadri
    backups: [margus]
`;

describe('changes between imports', () => {
  it('updates what the file changes and keeps confirmations of contacts who stay', async () => {
    await load(base);
    const confirmed = new Date('2026-05-05T00:00:00Z');
    await t.db.update(contacts).set({ lastConfirmedAt: confirmed });
    const changed = base
      .replace('tz: Europe/Tallinn', 'tz: Europe/Helsinki')
      .replace('primary: kadri\n    backups: [margus]', 'primary: margus\n    backups: [kadri]');
    const summary = await load(changed);
    expect(summary.people.updated).toBe(1);
    expect(summary.contactLists.changed).toBe(1);
    const [kadri] = await t.db.select().from(people).where(eq(people.handle, 'kadri'));
    expect(kadri?.tz).toBe('Europe/Helsinki');
    const who = await t.run('/poc who incident-response org:EST');
    expect(who.text).toMatch(
      /primary +Margus Saar[^\n]*confirmed 2026-05-05[^\n]*\n {2}backup 1 +Kadri Tamm[^\n]*confirmed 2026-05-05/,
    );
  });
});

describe('a bad file reports file and line and imports nothing', () => {
  const cases: [string, string, RegExp][] = [
    [
      'bad YAML',
      base.replace('    kind: industry', '    kind: [industry'),
      /^directory\.yaml:8:1: Flow sequence in block collection/,
    ],
    [
      'an unknown organisation',
      base.replace('    org: ACME\n    role: liaison', '    org: ACMX\n    role: liaison'),
      /^directory\.yaml:20: unknown organisation ACMX for ann$/,
    ],
    [
      'an unknown person in a contact list',
      base.replace('backups: [margus]', 'backups: [mart]'),
      /^directory\.yaml:25: unknown person mart in EST incident-response$/,
    ],
    [
      'a duplicate organisation',
      base.replace('  - code: ACME', '  - code: EST'),
      /^directory\.yaml:5: duplicate organisation EST \(first on line 2\)$/,
    ],
    [
      'a duplicate handle',
      base.replace('  - handle: ann', '  - handle: kadri'),
      /^directory\.yaml:20: duplicate handle kadri \(first on line 9\)$/,
    ],
    [
      'a duplicate Slack id',
      base.replace('    discord: "310000000000000002"', '    slack: U0EST0001'),
      /^directory\.yaml:15: duplicate slack id U0EST0001 \(first on line 9\)$/,
    ],
    [
      'a contact from another organisation',
      base.replace('backups: [margus]', 'backups: [ann]'),
      /^directory\.yaml:25: ann is not a member of EST/,
    ],
    [
      'an unknown field',
      base.replace('    role: liaison', '    role: liaison\n    phone: 123'),
      /^directory\.yaml:20: people entry: unknown field phone$/,
    ],
    [
      'a bad time zone',
      base.replace('Europe/Tallinn', 'Europe/Atlantis'),
      /^directory\.yaml:13: people entry: tz is not an IANA time zone$/,
    ],
    ['an unknown section', `${base}extras: []\n`, /^directory\.yaml:29: unknown section "extras"/],
  ];
  for (const [what, text, expected] of cases) {
    it(what, async () => {
      const before = await tableCounts(t.db);
      expect(await importError(text)).toMatch(expected);
      expect(await tableCounts(t.db)).toEqual(before);
    });
  }

  it('rolls back everything when a late check fails, after earlier rows were written', async () => {
    await load(`${base}  - org: EST\n    capability: legal\n    primary: margus\n`);
    const stored = await tableCounts(t.db);
    // margus moves to ACME (an update written early in the transaction) but the stored EST legal
    // list, which this file does not mention, still names him.
    const moved = base
      .replace(
        '    org: EST\n    role: delegate\n    discord',
        '    org: ACME\n    role: liaison\n    discord',
      )
      .replace('backups: [margus]', 'backups: []')
      .replace(
        '  - handle: ann',
        '  - handle: zoe\n    name: Zoe\n    org: ACME\n    role: liaison\n  - handle: ann',
      );
    expect(await importError(moved)).toMatch(
      /^directory\.yaml:15: margus moves organisation but is still a legal contact for EST/,
    );
    expect(await tableCounts(t.db)).toEqual(stored);
    const [zoe] = await t.db.select().from(people).where(eq(people.handle, 'zoe'));
    expect(zoe).toBeUndefined();
  });
});
