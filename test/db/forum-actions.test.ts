import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, forumActions, scheduledItems } from '../../src/db/schema/index.js';
import { forumActionReminder } from '../../src/domain/forum/actions.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';
import { fireDirectly } from '../support/jobs.js';

// A fixed clock: Monday 22 November 2027, 12:00 UTC.
let t: TestCore;
let sessionRef: string;

beforeAll(async () => {
  t = await makeTestCore({ now: new Date('2027-11-22T12:00:00Z') });
  for (const line of [
    '/org add FORUM name:"Forum Secretariat" kind:organiser',
    '/org add EST name:"Estonia" kind:delegation',
    '/org member @olga org:FORUM role:organiser name:"Olga" tz:Europe/Brussels',
    '/org member @kadri org:EST role:delegate name:"Kadri" tz:Europe/Tallinn',
    '/org member @mart org:EST role:delegate name:"Mart" tz:Europe/Tallinn',
  ]) {
    expect((await t.run(line)).text).not.toMatch(/⚠/);
  }
  const scheduled = await t.run(
    '/forum schedule Autumn forum at:2027-11-23T10:00 tz:Europe/Brussels',
    '@olga',
  );
  sessionRef = /Scheduled (FS-2027-\d+)/.exec(scheduled.text)?.[1] ?? '';
  expect(sessionRef).not.toBe('');
});
afterAll(() => t.close());

const actionItems = () =>
  t.db.select().from(scheduledItems).where(eq(scheduledItems.kind, 'forum.action'));

describe('/forum action, done and actions', () => {
  it('records an action and schedules its first reminder at 09:00 the day before, owner time', async () => {
    const reply = await t.run(
      `/forum action ${sessionRef} Send the minutes to all delegations owner:@kadri due:2027-11-30`,
      '@olga',
    );
    expect(reply.text).toMatch(
      new RegExp(
        `^Action #1 for ${sessionRef}: @kadri, due 2027-11-30\\nFirst reminder: Mon, 29 Nov 2027, 08:00 CET$`,
      ),
    );
    const [item] = await actionItems();
    expect(item).toMatchObject({
      subject: 'action-1',
      status: 'pending',
      dueAt: new Date('2027-11-29T07:00:00Z'),
    });
    const list = await t.run('/forum actions', '@kadri');
    expect(list.text).toBe(
      `1 open action item\n#1    ${sessionRef}   due 2027-11-30  @kadri  Send the minutes to all delegations`,
    );
  });

  it('reminds the owner by direct message and comes back two days after the due date', async () => {
    const [item] = await actionItems();
    if (!item) throw new Error('no item');
    const now = new Date('2027-11-29T07:00:00Z');
    const outcome = await fireDirectly(t.db, forumActionReminder, item, now);
    expect(outcome).toEqual({ again: new Date('2027-12-02T07:00:00Z') });
    const [sent] = await t.db.select().from(deliveries);
    expect(sent).toMatchObject({ mode: 'direct', target: 'shell:kadri' });
    expect(sent?.message.title).toBe(
      `Action #1 from ${sessionRef} is due tomorrow: Send the minutes to all delegations`,
    );
    expect(sent?.message.footer).toBe('When it is done: /forum done 1');
  });

  it('refuses a past due date, an unknown session and someone else marking it done', async () => {
    const before = await tableCounts(t.db);
    expect(
      (await t.run(`/forum action ${sessionRef} Late owner:@kadri due:2027-11-01`, '@olga')).message
        .title,
    ).toBe('⚠ due: 2027-11-01 is already past for @kadri');
    expect(
      (await t.run('/forum action FS-1999-1 Ghost owner:@kadri due:2027-12-01', '@olga')).message
        .title,
    ).toBe('⚠ no forum session FS-1999-1: /forum list shows them');
    expect((await t.run('/forum done 1', '@mart')).message.title).toBe(
      '⚠ only the owner of #1, an organiser or an admin may mark it done',
    );
    expect((await t.run('/forum done x1', '@kadri')).message.title).toBe(
      '⚠ "x1" is not an action number like 12',
    );
    expect(await tableCounts(t.db)).toEqual(before);
  });

  it('done by its owner stops the reminders', async () => {
    expect((await t.run('/forum done #1', '@kadri')).text).toBe(
      'Action #1 done: Send the minutes to all delegations',
    );
    const [item] = await actionItems();
    expect(item?.status).toBe('cancelled');
    const [action] = await t.db.select().from(forumActions);
    expect(action).toMatchObject({ status: 'done', doneAt: t.now });
    expect((await t.run('/forum actions')).text).toBe('No open action items');
    expect((await t.run('/forum done 1', '@kadri')).message.title).toBe(
      '⚠ action #1 is already done',
    );
  });
});
