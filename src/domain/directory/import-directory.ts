import { and, eq, ne, sql } from 'drizzle-orm';
import type { Transaction } from '../../db/client.js';
import { contacts } from '../../db/schema/contacts.js';
import { organisations } from '../../db/schema/organisations.js';
import { people, platformIdentities } from '../../db/schema/people.js';
import { type DirectoryFile, DirectoryFileError } from '../../directory/directory-file.js';
import { type AuditEntry, recordAudit } from '../audit.js';
import { sameOrder, writeContactList } from '../contacts/contact-list.js';
import type { DomainContext } from '../context.js';

export interface ImportSummary {
  organisations: { added: number; updated: number };
  people: { added: number; updated: number };
  identities: { added: number; replaced: number };
  contactLists: { changed: number; unchanged: number };
  auditRows: number;
}

const CHUNK = 2000;

/**
 * Loads a parsed directory file in one transaction. Organisations and people are matched by code
 * and handle and updated to what the file says; each contact list named in the file replaces the
 * stored one (keeping confirmations of people who stay). Nothing is deleted that the file does
 * not mention. Importing the same file again changes nothing and writes no audit rows. Any
 * problem throws a DirectoryFileError naming file and line, and nothing is imported.
 */
export async function importDirectory({
  ctx,
  input,
}: {
  ctx: Pick<DomainContext, 'db' | 'now'>;
  input: { file: DirectoryFile };
}): Promise<ImportSummary> {
  const { file } = input;
  const actor = `import:${file.source.split('/').pop()}`;
  const fail = (line: number, message: string): never => {
    throw new DirectoryFileError(`${file.source}:${line}: ${message}`);
  };
  const summary: ImportSummary = {
    organisations: { added: 0, updated: 0 },
    people: { added: 0, updated: 0 },
    identities: { added: 0, replaced: 0 },
    contactLists: { changed: 0, unchanged: 0 },
    auditRows: 0,
  };
  const audit: AuditEntry[] = [];

  const result = await ctx.db.transaction(async (tx) => {
    // Organisations.
    const orgIds = new Map<string, number>();
    const fileOrgs = new Map(file.organisations.map((e) => [e.value.code, e.value]));
    for (const o of await tx.select().from(organisations)) {
      orgIds.set(o.code, o.id);
      const entry = fileOrgs.get(o.code);
      if (entry && (entry.name !== o.name || entry.kind !== o.kind)) {
        await tx
          .update(organisations)
          .set({ name: entry.name, kind: entry.kind })
          .where(eq(organisations.id, o.id));
        audit.push({
          actor,
          action: 'org.update',
          subject: `org:${o.code}`,
          detail: { name: entry.name, kind: entry.kind },
        });
        summary.organisations.updated++;
      }
    }
    const newOrgs = file.organisations.filter((e) => !orgIds.has(e.value.code)).map((e) => e.value);
    for (const rows of chunks(newOrgs)) {
      for (const o of await tx.insert(organisations).values(rows).returning()) {
        orgIds.set(o.code, o.id);
        audit.push({
          actor,
          action: 'org.add',
          subject: `org:${o.code}`,
          detail: { name: o.name, kind: o.kind },
        });
        summary.organisations.added++;
      }
    }

    // People.
    const personIds = new Map<string, { id: number; orgId: number | null }>();
    const stored = new Map((await tx.select().from(people)).map((p) => [p.handle, p]));
    const newPeople: (typeof people.$inferInsert)[] = [];
    const filePeople = new Map(file.people.map((e) => [e.value.handle, e.value]));
    for (const { value: p, line } of file.people) {
      const orgId =
        orgIds.get(p.org) ?? fail(line, `unknown organisation ${p.org} for ${p.handle}`);
      const current = stored.get(p.handle);
      if (!current) {
        newPeople.push({ handle: p.handle, name: p.name, orgId, role: p.role, tz: p.tz });
        continue;
      }
      personIds.set(p.handle, { id: current.id, orgId });
      if (
        current.name !== p.name ||
        current.orgId !== orgId ||
        current.role !== p.role ||
        current.tz !== p.tz
      ) {
        await tx
          .update(people)
          .set({ name: p.name, orgId, role: p.role, tz: p.tz })
          .where(eq(people.id, current.id));
        audit.push({
          actor,
          action: 'org.member.update',
          subject: `person:${p.handle}`,
          detail: { org: p.org, role: p.role, name: p.name, tz: p.tz },
        });
        summary.people.updated++;
      }
    }
    for (const rows of chunks(newPeople)) {
      for (const p of await tx.insert(people).values(rows).returning()) {
        personIds.set(p.handle, { id: p.id, orgId: p.orgId });
        const org = filePeople.get(p.handle)?.org;
        audit.push({
          actor,
          action: 'org.member.add',
          subject: `person:${p.handle}`,
          detail: { org, role: p.role, name: p.name, tz: p.tz },
        });
        summary.people.added++;
      }
    }
    for (const p of stored.values())
      if (!personIds.has(p.handle)) personIds.set(p.handle, { id: p.id, orgId: p.orgId });

    // Platform identities: the file's id for a platform replaces the person's previous one.
    await importIdentities(tx, file, personIds, fail, audit, summary, actor);

    // Contact lists.
    const listKey = (orgId: number, capability: string) => `${orgId}/${capability}`;
    const storedLists = new Map<
      string,
      { personId: number; rank: number; lastConfirmedAt: Date }[]
    >();
    for (const c of await tx.select().from(contacts)) {
      const key = listKey(c.orgId, c.capability);
      const list = storedLists.get(key) ?? [];
      list.push(c);
      storedLists.set(key, list);
    }
    const handleOf = new Map([...personIds].map(([handle, p]) => [p.id, handle]));
    const newRows: (typeof contacts.$inferInsert)[] = [];
    for (const { value: c, line } of file.contacts) {
      const orgId = orgIds.get(c.org) ?? fail(line, `unknown organisation ${c.org}`);
      const wanted = [c.primary, ...c.backups].map((handle) => {
        const person =
          personIds.get(handle) ??
          fail(line, `unknown person ${handle} in ${c.org} ${c.capability}`);
        if (person.orgId !== orgId)
          fail(
            line,
            `${handle} is not a member of ${c.org}: contacts must belong to the organisation`,
          );
        return person.id;
      });
      const before = (storedLists.get(listKey(orgId, c.capability)) ?? []).sort(
        (a, b) => a.rank - b.rank,
      );
      const next = wanted.map((personId) => ({
        personId,
        lastConfirmedAt: before.find((b) => b.personId === personId)?.lastConfirmedAt ?? ctx.now,
      }));
      if (sameOrder(before, next)) {
        summary.contactLists.unchanged++;
        continue;
      }
      // A list that exists is rewritten now; new lists go in below, all in a few statements.
      if (before.length > 0) await writeContactList(tx, orgId, c.capability, next);
      else
        newRows.push(...next.map((n, rank) => ({ ...n, orgId, capability: c.capability, rank })));
      audit.push({
        actor,
        action: 'poc.set',
        subject: `poc:${c.org}/${c.capability}`,
        detail: {
          before: before.map((b) => handleOf.get(b.personId)),
          after: [c.primary, ...c.backups],
        },
      });
      summary.contactLists.changed++;
    }

    for (const rows of chunks(newRows)) await tx.insert(contacts).values(rows);

    // People the file moved to another organisation must not stay contacts of the old one.
    const [stray] = await tx
      .select({ handle: people.handle, org: organisations.code, capability: contacts.capability })
      .from(contacts)
      .innerJoin(people, eq(people.id, contacts.personId))
      .innerJoin(organisations, eq(organisations.id, contacts.orgId))
      .where(ne(people.orgId, contacts.orgId))
      .limit(1);
    if (stray) {
      const line = file.people.find((p) => p.value.handle === stray.handle)?.line ?? 1;
      fail(
        line,
        `${stray.handle} moves organisation but is still a ${stray.capability} contact for ${stray.org}: list that contact in the file or remove it first`,
      );
    }

    for (const rows of chunks(audit)) await recordAudit(tx, rows);
    summary.auditRows = audit.length;
    return summary;
  });
  // A bulk load leaves the planner's statistics describing the old, smaller directory until
  // autovacuum gets round to it; refresh them so the first `/poc who` after an import is fast.
  if (result.auditRows >= ANALYZE_AFTER_CHANGES) {
    await ctx.db.execute(sql`analyze organisations, people, platform_identities, contacts`);
  }
  return result;
}

const ANALYZE_AFTER_CHANGES = 500;

async function importIdentities(
  tx: Transaction,
  file: DirectoryFile,
  personIds: Map<string, { id: number }>,
  fail: (line: number, message: string) => never,
  audit: AuditEntry[],
  summary: ImportSummary,
  actor: string,
): Promise<void> {
  const rows = await tx.select().from(platformIdentities);
  const owner = new Map(rows.map((r) => [`${r.platform}:${r.externalId}`, r.personId]));
  const current = new Map(rows.map((r) => [`${r.personId}:${r.platform}`, r.externalId]));
  const added: (typeof platformIdentities.$inferInsert)[] = [];
  for (const { value: p, line } of file.people) {
    const personId =
      personIds.get(p.handle)?.id ?? fail(line, `person ${p.handle} vanished during import`);
    for (const platform of ['slack', 'discord'] as const) {
      const externalId = p[platform];
      if (externalId === undefined) continue;
      const holder = owner.get(`${platform}:${externalId}`);
      if (holder === personId) continue;
      if (holder !== undefined)
        fail(line, `${platform} id ${externalId} already belongs to someone else in the directory`);
      const previous = current.get(`${personId}:${platform}`);
      if (previous !== undefined) {
        await tx
          .delete(platformIdentities)
          .where(
            and(
              eq(platformIdentities.personId, personId),
              eq(platformIdentities.platform, platform),
            ),
          );
        summary.identities.replaced++;
      } else summary.identities.added++;
      added.push({ platform, externalId, personId });
      audit.push({
        actor,
        action: 'person.identity',
        subject: `person:${p.handle}`,
        detail: { platform, externalId, previous: previous ?? null },
      });
    }
  }
  for (const chunk of chunks(added)) await tx.insert(platformIdentities).values(chunk);
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
