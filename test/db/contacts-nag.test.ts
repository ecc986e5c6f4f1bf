import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contacts, deliveries, people, scheduledItems } from '../../src/db/schema/index.js';
import {
  CONTACTS_NAG,
  ensureContactsNag,
  nagStaleContacts,
} from '../../src/domain/contacts/nag-stale-contacts.js';
import { makeTestCore, type TestCore } from '../support/core.js';
import { fireDirectly } from '../support/jobs.js';

let t: TestCore;
const DAY = 86_400_000;

beforeAll(async () => {
  t = await makeTestCore({ now: new Date('2027-06-01T12:00:00Z') });
  for (const line of [
    '/org add EST name:"Estonia" kind:delegation',
    '/org member @kadri org:EST role:delegate name:"Kadri" slack:U0K',
    '/org member @mart org:EST role:delegate name:"Mart"',
    '/org member @liis org:EST role:liaison name:"Liis"',
    '/poc set org:EST capability:incident-response @kadri backup:@mart,@liis',
    '/poc set org:EST capability:legal @kadri',
  ]) {
    expect((await t.run(line)).text).not.toMatch(/⚠/);
  }
  // Kadri and Mart last confirmed 100 days ago; Liis 10 days ago.
  const ids = Object.fromEntries((await t.db.select().from(people)).map((p) => [p.handle, p.id]));
  await t.db.update(contacts).set({ lastConfirmedAt: new Date(t.now.getTime() - 100 * DAY) });
  await t.db
    .update(contacts)
    .set({ lastConfirmedAt: new Date(t.now.getTime() - 10 * DAY) })
    .where(eq(contacts.personId, ids.liis ?? 0));
  await ensureContactsNag(t.db, t.now);
  await ensureContactsNag(t.db, t.now);
});
afterAll(() => t.close());

async function sweep(now: Date, platform: 'shell' | 'slack' = 'shell') {
  const [item] = await t.db
    .select()
    .from(scheduledItems)
    .where(eq(scheduledItems.kind, CONTACTS_NAG));
  if (!item) throw new Error('no sweep item');
  return fireDirectly(t.db, nagStaleContacts(platform), item, now);
}

describe('re-confirmation of points of contact', () => {
  it('exists once as a daily sweep', async () => {
    const items = await t.db
      .select()
      .from(scheduledItems)
      .where(eq(scheduledItems.kind, CONTACTS_NAG));
    expect(items).toHaveLength(1);
  });

  it('asks each stale contact once, listing all their roles, and comes back the next day', async () => {
    const outcome = await sweep(t.now);
    expect(outcome).toEqual({ again: new Date(t.now.getTime() + DAY) });
    const sent = await t.db.select().from(deliveries);
    expect(sent.map((d) => d.target).sort()).toEqual(['shell:kadri', 'shell:mart']);
    const kadri = sent.find((d) => d.target === 'shell:kadri');
    expect(kadri?.message.title).toBe(
      'Please confirm you are still the point of contact for these 2 roles',
    );
    expect(kadri?.message.body).toBe('EST incident-response (primary)\nEST legal (primary)');
    expect(kadri?.message.footer).toMatch(/\/poc confirm/);
  });

  it('does not ask again the next day, nor anyone who confirmed', async () => {
    await t.run('/poc confirm', '@mart');
    await sweep(new Date(t.now.getTime() + DAY));
    expect(await t.db.select().from(deliveries)).toHaveLength(2);
  });

  it('asks again after another 90 days without an answer, on the platform they use', async () => {
    await sweep(new Date(t.now.getTime() + 91 * DAY), 'slack');
    const sent = await t.db.select().from(deliveries);
    expect(sent.map((d) => d.target).sort()).toEqual(['shell:kadri', 'shell:mart', 'slack:U0K']);
    // Mart and Liis have no Slack account: they were not asked, so they are not marked asked.
    const marked = await t.db
      .select({ handle: people.handle, naggedAt: contacts.naggedAt })
      .from(contacts)
      .innerJoin(people, eq(people.id, contacts.personId));
    const later = new Date(t.now.getTime() + 91 * DAY).getTime();
    expect(
      marked
        .filter((m) => m.naggedAt?.getTime() === later)
        .map((m) => m.handle)
        .sort(),
    ).toEqual(['kadri', 'kadri']);
    expect(marked.filter((m) => m.handle === 'liis').every((m) => m.naggedAt === null)).toBe(true);
  });
});
