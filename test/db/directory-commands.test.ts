import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userRef } from '../../src/chat/refs.js';
import {
  auditLog,
  contacts,
  orgInboxes,
  people,
  platformIdentities,
} from '../../src/db/schema/index.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';

let t: TestCore;

beforeAll(async () => {
  t = await makeTestCore({ admins: ['shell:operator', 'slack:UADMIN1'] });
  const setup = [
    '/org add EST name:"Estonia" kind:delegation',
    '/org add ACME name:"Acme Security Ltd" kind:industry',
    '/org member @kadri org:EST role:delegate name:"Kadri Tamm" tz:Europe/Tallinn slack:U0EST0001',
    '/org member @margus org:EST role:delegate name:"Margus Saar" tz:Europe/Tallinn discord:310000000000000002',
    '/org member @liis org:EST role:liaison name:"Liis Mägi" tz:Europe/Tallinn',
    '/org member @ann org:ACME role:liaison name:"Ann Lee" tz:America/New_York',
  ];
  for (const line of setup) {
    const reply = await t.run(line);
    expect(reply.text, line).not.toMatch(/⚠/);
  }
});
afterAll(() => t.close());

describe('organisations and members', () => {
  it('adds an organisation with an audit row in the same change', async () => {
    const reply = await t.run('/org add DEU name:"Germany" kind:delegation');
    expect(reply.text).toBe('Added DEU: Germany (delegation)');
    const rows = await t.db.select().from(auditLog).where(eq(auditLog.subject, 'org:DEU'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor: 'shell:operator',
      action: 'org.add',
      detail: { name: 'Germany', kind: 'delegation' },
    });
  });

  it('creates people with their platform identities, and updates them in place', async () => {
    const [kadri] = await t.db.select().from(people).where(eq(people.handle, 'kadri'));
    expect(kadri).toMatchObject({ name: 'Kadri Tamm', tz: 'Europe/Tallinn', role: 'delegate' });
    const ids = await t.db
      .select()
      .from(platformIdentities)
      .where(eq(platformIdentities.personId, kadri?.id ?? -1));
    expect(ids).toEqual([{ platform: 'slack', externalId: 'U0EST0001', personId: kadri?.id }]);

    const update = await t.run('/org member @kadri org:EST role:delegate tz:Europe/Helsinki');
    expect(update.text).toBe('Updated @kadri (Kadri Tamm): time zone → Europe/Helsinki');
    const again = await t.run('/org member @kadri org:EST role:delegate tz:Europe/Helsinki');
    expect(again.text).toMatch(/nothing changed/);
  });

  it('finds people by their Slack or Discord mention as well as by handle', async () => {
    const bySlack = await t.run('/org member <@U0EST0001|kadri> org:EST role:delegate');
    expect(bySlack.text).toMatch(/@kadri .*nothing changed/);
    const byDiscord = await t.run('/org member <@310000000000000002> org:EST role:delegate');
    expect(byDiscord.text).toMatch(/@margus .*nothing changed/);
  });

  it('derives a handle for someone new named by a Slack mention', async () => {
    const reply = await t.run('/org member <@U0NEW0001|Jaan Tamm> org:EST role:liaison');
    expect(reply.text).toMatch(/Added @jaan\.tamm \(Jaan Tamm\) to EST as liaison/);
  });

  it('lists organisations with member counts and inboxes', async () => {
    await t.run('/org inbox org:ACME', '@ann');
    const reply = await t.run('/org list');
    expect(reply.text).toMatch(/ACME +industry +Acme Security Ltd · 1 member · inbox on shell/);
    expect(reply.text).toMatch(/EST +delegation +Estonia · 4 members/);
    const inbox = await t.db.select().from(orgInboxes);
    expect(inbox).toEqual([
      expect.objectContaining({ platform: 'shell', channel: 'shell:#general' }),
    ]);
  });

  it('lets a bootstrap admin from CONCORD_ADMINS act before being in the directory', async () => {
    const reply = await t.run(
      '/org add NLD name:"Netherlands" kind:delegation',
      userRef('slack', 'UADMIN1'),
    );
    expect(reply.text).toBe('Added NLD: Netherlands (delegation)');
  });
});

describe('points of contact', () => {
  it('sets a primary and two ordered backups, and /poc who lists them in order', async () => {
    const set = await t.run(
      '/poc set org:EST capability:incident-response @kadri backup:@margus,@liis',
    );
    expect(set.text).toBe('EST incident-response: primary @kadri, backups @margus, @liis');
    const who = await t.run('/poc who incident-response org:EST');
    const lines = who.text.split('\n');
    expect(lines[0]).toBe('Who to call for incident-response');
    expect(lines[1]).toBe('EST — Estonia');
    expect(lines[2]).toMatch(
      /^ {2}primary +Kadri Tamm @kadri · slack · Europe\/Helsinki \(now \d\d:\d\d\) · confirmed 2026-11-22 \(today\)$/,
    );
    expect(lines[3]).toMatch(/^ {2}backup 1 +Margus Saar @margus · discord · Europe\/Tallinn/);
    expect(lines[4]).toMatch(/^ {2}backup 2 +Liis Mägi @liis · shell only/);
    const rows = await t.db.select().from(contacts);
    expect(rows.map((r) => r.rank).sort()).toEqual([0, 1, 2]);
  });

  it('keeps the confirmation of contacts who stay when the list is reordered', async () => {
    const old = new Date('2026-06-01T00:00:00Z');
    await t.db.update(contacts).set({ lastConfirmedAt: old });
    await t.run('/poc set org:EST capability:incident-response @margus backup:@kadri');
    const rows = await t.db
      .select()
      .from(contacts)
      .where(eq(contacts.capability, 'incident-response'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.lastConfirmedAt.toISOString()).toBe(old.toISOString());
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.action, 'poc.set'));
    expect(audit.at(-1)?.detail).toEqual({
      before: ['kadri', 'margus', 'liis'],
      after: ['margus', 'kadri'],
    });
  });

  it('answers /poc who across organisations, primary first in each', async () => {
    await t.run('/poc set org:ACME capability:incident-response @ann');
    const who = await t.run('/poc who incident-response');
    expect(who.text).toMatch(
      /ACME — Acme Security Ltd\n {2}primary +Ann Lee[\s\S]*EST — Estonia\n {2}primary +Margus Saar/,
    );
  });

  it('removes a primary and moves the first backup up', async () => {
    await t.run('/poc set org:EST capability:forensics @kadri backup:@margus,@liis');
    const reply = await t.run('/poc remove org:EST capability:forensics @kadri');
    expect(reply.text).toBe('Removed @kadri (primary) from EST forensics; @margus is now primary');
    const list = await t.run('/poc list org:EST');
    expect(list.text).toMatch(
      /EST forensics\n {2}primary +@margus · confirmed [^\n]+\n {2}backup 1 +@liis/,
    );
  });

  it("/poc confirm moves the speaker's confirmations to now, and stale:true lists the others", async () => {
    await t.db.update(contacts).set({ lastConfirmedAt: new Date('2026-01-01T00:00:00Z') });
    const stale = await t.run('/poc list stale:true');
    expect(stale.text).toMatch(/Stale points of contact in all organisations: \d+ entries/);
    const confirm = await t.run('/poc confirm', '@margus');
    expect(confirm.text).toMatch(
      /^Confirmed 2 roles\nEST forensics \(primary\)\nEST incident-response \(primary\)$/,
    );
    const rows = await t.db
      .select()
      .from(contacts)
      .innerJoin(people, eq(people.id, contacts.personId));
    for (const { contacts: c, people: p } of rows) {
      expect(c.lastConfirmedAt.toISOString()).toBe(
        p.handle === 'margus' ? t.now.toISOString() : '2026-01-01T00:00:00.000Z',
      );
    }
    const after = await t.run('/poc list stale:true org:EST');
    expect(after.text).not.toMatch(/@margus/);
    expect(after.text).toMatch(/@kadri/);
  });

  it('whoami shows a person their organisation, role and contact roles', async () => {
    const reply = await t.run('/concord whoami', '@margus');
    expect(reply.text).toMatch(
      /^You are Margus Saar @margus\nOrganisation: EST \(Estonia\)\nRole: delegate\n/,
    );
    expect(reply.text).toMatch(
      /Point of contact for:\n {2}EST forensics \(primary\)\n {2}EST incident-response \(primary\)/,
    );
  });
});

describe('bad input gets one line of reason plus usage, and changes nothing', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown command', '/frobnicate now', /^⚠ unknown command \/frobnicate/],
    ['unknown subcommand', '/poc frob', /^⚠ unknown subcommand "frob" for \/poc/],
    ['unknown option', '/poc who forensics colour:blue', /^⚠ unknown option colour: for \/poc who/],
    ['missing option', '/poc set @kadri capability:legal', /^⚠ missing org:/],
    [
      'malformed value',
      '/org add E name:"E" kind:delegation',
      /^⚠ "E" is not an organisation code/,
    ],
    [
      'bad enum',
      '/org add FRA name:"France" kind:country',
      /^⚠ kind: must be one of delegation, industry, organiser/,
    ],
    [
      'bad zone',
      '/org member @kadri org:EST role:delegate tz:Mars/Olympus',
      /^⚠ "Mars\/Olympus" is not a time zone/,
    ],
    [
      'unknown organisation',
      '/poc set org:XXX capability:legal @kadri',
      /^⚠ unknown organisation XXX/,
    ],
    [
      'unknown person',
      '/poc set org:EST capability:legal @nobody',
      /^⚠ @nobody is not in the directory/,
    ],
    [
      'duplicate organisation',
      '/org add EST name:"Estonia" kind:delegation',
      /^⚠ EST already exists \(Estonia\)/,
    ],
    [
      'duplicate person in a list',
      '/poc set org:EST capability:legal @kadri backup:@margus,@kadri',
      /^⚠ @kadri is listed twice/,
    ],
    [
      'contact from another organisation',
      '/poc set org:EST capability:legal @ann',
      /^⚠ @ann is not a member of EST \(they are with ACME\)/,
    ],
    [
      'removing a non-contact',
      '/poc remove org:EST capability:legal @kadri',
      /^⚠ @kadri is not a legal contact for EST/,
    ],
    [
      'moving a contact away',
      '/org member @margus org:ACME role:liaison',
      /^⚠ @margus is a point of contact for EST/,
    ],
    [
      'a taken Slack id',
      '/org member @liis org:EST role:liaison slack:U0EST0001',
      /^⚠ slack id U0EST0001 already belongs to someone else/,
    ],
  ];
  for (const [what, line, reason] of cases) {
    it(what, async () => {
      const before = await tableCounts(t.db);
      const reply = await t.run(line);
      expect(reply.visibility).toBe('private');
      expect(reply.message.title).toMatch(reason);
      expect(reply.message.title).not.toContain('\n');
      expect(reply.message.footer).toMatch(/^Usage: \//);
      expect(await tableCounts(t.db)).toEqual(before);
    });
  }

  const forbidden: [string, string, string, RegExp][] = [
    [
      'a liaison adding an organisation',
      '@ann',
      '/org add FRA name:"France" kind:delegation',
      /^⚠ only an admin may do that/,
    ],
    [
      'a member of another organisation setting contacts',
      '@ann',
      '/poc set org:EST capability:legal @kadri',
      /^⚠ only members of EST or an admin/,
    ],
    [
      'someone outside the directory listing contacts',
      '@stranger',
      '/poc who forensics',
      /^⚠ you are not in Concord's directory yet/,
    ],
  ];
  for (const [what, who, line, reason] of forbidden) {
    it(`refuses ${what}`, async () => {
      const before = await tableCounts(t.db);
      const reply = await t.run(line, who);
      expect(reply.message.title).toMatch(reason);
      expect(reply.message.footer).toMatch(/^Usage: \//);
      expect(await tableCounts(t.db)).toEqual(before);
    });
  }

  it('lets members manage their own organisation', async () => {
    const reply = await t.run('/poc set org:ACME capability:legal @ann', '@ann');
    expect(reply.text).toBe('ACME legal: primary @ann, no backups');
  });

  it('answers help and whoami to someone outside the directory, with how to be added', async () => {
    const who = await t.run('/concord whoami', '@stranger');
    expect(who.text).toMatch(
      /^You are shell:stranger, not in Concord's directory\nTo be added, ask an admin/,
    );
    const help = await t.run('/concord help poc', '@stranger');
    expect(help.text).toMatch(
      /\/poc set org:<code> capability:<tag> <@primary> \[backup:<@user,...>\]/,
    );
  });
});

describe('the audit log', () => {
  it('is append-only', async () => {
    await expect(t.db.update(auditLog).set({ actor: 'someone else' })).rejects.toThrow();
    await expect(t.db.delete(auditLog)).rejects.toThrow();
  });
});
