import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/db/client.js';
import { forumSessions, scheduledItems } from '../../src/db/schema/index.js';
import { itemHandlers } from '../../src/domain/item-handlers.js';
import { makeTestCore, type TestCore, tableCounts } from '../support/core.js';
import { eventually, type JobsHarness, makeJobsHarness, sleep } from '../support/jobs.js';
import { openTestStorage } from '../support/storage.js';

let storage: Storage;
let h: JobsHarness;
let t: TestCore;

beforeEach(async () => {
  storage = await openTestStorage();
  h = makeJobsHarness(storage.db, { handlers: itemHandlers() });
  t = await makeTestCore({ storage, now: 'real', enqueue: (items) => h.scheduler.enqueue(items) });
  for (const line of [
    '/org add FORUM name:"Forum Secretariat" kind:organiser',
    '/org add EST name:"Estonia" kind:delegation',
    '/org member @olga org:FORUM role:organiser name:"Olga Organiser" tz:Europe/Brussels',
    '/org member @kadri org:EST role:delegate name:"Kadri Tamm" tz:Europe/Tallinn',
    '/org member @bill org:EST role:liaison name:"Bill Remote" tz:America/New_York',
  ]) {
    expect((await t.run(line)).text).not.toMatch(/⚠/);
  }
});
afterEach(async () => {
  await h.close();
  await storage.close();
});

const items = () => storage.db.select().from(scheduledItems);

describe('/forum schedule, end to end through the scheduler and the outbox', () => {
  it('reminds the channel and each participant in their own zone, then holds the session', async () => {
    h.startWorker();
    h.startDeliveryWorker();
    const reply = await t.run(
      '/forum schedule Dry run at:+3s remind:2s,1s participants:@kadri,@bill',
      '@olga',
    );
    expect(reply.visibility).toBe('channel');
    expect(reply.text).toMatch(
      /^Scheduled FS-\d{4}-1: Dry run\nWhen: .* \(Europe\/Brussels\)\nReminders: 2s, 1s before\nParticipants: @olga, @kadri, @bill$/,
    );

    await eventually(
      async () => h.chat.sent.filter((s) => /starts now/.test(s.message.title ?? '')).length === 1,
      8_000,
      'the start',
    );
    await sleep(300);
    const reminders = h.chat.sent.filter((s) => /starts in/.test(s.message.title ?? ''));
    // Two reminders, each to the channel and the three participants.
    expect(reminders).toHaveLength(8);
    const toBill = reminders.find((s) => s.to === 'shell:bill');
    expect(toBill?.message.fields?.[0]?.value).toMatch(/ \(America\/New_York\)$/);
    expect(toBill?.message.fields?.[1]?.label).toBe('Session time');
    const toOlga = reminders.find((s) => s.to === 'shell:olga');
    expect(toOlga?.message.fields).toHaveLength(1);
    expect(reminders.every((s) => s.message.tlp === 'green')).toBe(true);
    const [session] = await storage.db.select().from(forumSessions);
    expect(session?.status).toBe('held');
    expect((await items()).every((i) => i.status === 'done')).toBe(true);
  });

  it("a yearly session creates next year's at the same local time when it takes place", async () => {
    h.startWorker();
    h.startDeliveryWorker();
    await t.run(
      '/forum schedule Annual forum at:+2s remind:1s repeat:yearly tz:America/New_York',
      '@olga',
    );
    await eventually(
      async () => (await storage.db.select().from(forumSessions)).length === 2,
      8_000,
      'next year',
    );
    const [first, next] = await storage.db.select().from(forumSessions).orderBy(forumSessions.id);
    expect(first?.status).toBe('held');
    expect(next).toMatchObject({
      status: 'scheduled',
      title: 'Annual forum',
      repeat: 'yearly',
      previousId: first?.id,
    });
    expect(next?.anchor).toEqual({ ...first?.anchor, year: (first?.anchor.year ?? 0) + 1 });
    const pending = (await items())
      .filter((i) => i.status === 'pending')
      .map((i) => i.kind)
      .sort();
    expect(pending).toEqual(['forum.reminder', 'forum.start']);
    // The start notice goes through the outbox after the job that wrote next year's session:
    // on a busy machine it lands a moment after that row.
    const startsNow = () => h.chat.sent.find((s) => /starts now/.test(s.message.title ?? ''));
    await eventually(async () => startsNow() !== undefined, 8_000, 'the start notice');
    expect(startsNow()?.message.fields?.[0]?.label).toBe('Next year');
  });

  it('a cancelled session sends nothing more', async () => {
    h.startWorker();
    h.startDeliveryWorker();
    const reply = await t.run('/forum schedule Call at:+2s remind:1s participants:@kadri', '@olga');
    const ref = /Scheduled (FS-\d{4}-\d+)/.exec(reply.text)?.[1];
    expect((await t.run(`/forum cancel ${ref}`, '@olga')).text).toBe(
      `Cancelled ${ref}: Call (2 reminders withdrawn)`,
    );
    await sleep(2_800);
    expect(h.chat.sent).toEqual([]);
    expect((await items()).map((i) => i.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('skips default reminders that are already past, and says so', async () => {
    const reply = await t.run('/forum schedule Soon at:+3h', '@olga');
    expect(reply.text).toMatch(/Reminders: 1h before\n.*\nSkipped: 30d, 7d, 1d \(already past\)$/);
    expect((await items()).map((i) => i.kind).sort()).toEqual(['forum.reminder', 'forum.start']);
  });
});

describe('/forum schedule refuses bad input with a reason and schedules nothing', () => {
  const cases: [string, string, string, RegExp][] = [
    [
      'a date in the past',
      '@olga',
      '/forum schedule Old at:2020-01-01T10:00',
      /^⚠ at: .*2020.* is in the past$/,
    ],
    [
      'an unknown zone',
      '@olga',
      '/forum schedule X at:+1d tz:Europe/Gotham',
      /^⚠ "Europe\/Gotham" is not a time zone/,
    ],
    [
      'a reminder that would be before now',
      '@olga',
      '/forum schedule X at:+1h remind:2h',
      /^⚠ remind: 2h before .* is already past$/,
    ],
    [
      'a non-organiser',
      '@kadri',
      '/forum schedule X at:+1d',
      /^⚠ only organisers may do that; you are a delegate$/,
    ],
    ['a bad duration', '@olga', '/forum schedule X at:+1d remind:1w', /^⚠ "1w" is not a duration/],
  ];
  for (const [what, who, line, expected] of cases) {
    it(what, async () => {
      const before = await tableCounts(t.db);
      const beforeItems = (await items()).length;
      const reply = await t.run(line, who);
      expect(reply.message.title).toMatch(expected);
      expect(reply.message.footer).toMatch(/^Usage: \/forum schedule <title> at:/);
      expect(await tableCounts(t.db)).toEqual(before);
      expect((await items()).length).toBe(beforeItems);
    });
  }

  it('a duplicate title at the same time', async () => {
    const at = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    expect((await t.run(`/forum schedule Same at:${at} tz:UTC`, '@olga')).text).toMatch(
      /^Scheduled/,
    );
    const before = (await items()).length;
    const reply = await t.run(`/forum schedule Same at:${at} tz:UTC`, '@olga');
    expect(reply.message.title).toMatch(/^⚠ "Same" is already scheduled at /);
    expect((await items()).length).toBe(before);
    const sessions = await storage.db
      .select()
      .from(forumSessions)
      .where(eq(forumSessions.title, 'Same'));
    expect(sessions).toHaveLength(1);
  });
});
