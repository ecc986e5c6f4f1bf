import { eq } from 'drizzle-orm';
import { type OrganisationKind, organisations } from '../../db/schema/organisations.js';
import { conflict, usageError } from '../../errors.js';
import { recordAudit } from '../audit.js';
import { actorOf, type DomainContext } from '../context.js';
import type { OrganisationSummary } from './speaker.js';

export interface AddOrganisationInput {
  code: string;
  name: string;
  kind: OrganisationKind;
}

export async function addOrganisation({
  ctx,
  input,
}: {
  ctx: DomainContext;
  input: AddOrganisationInput;
}): Promise<OrganisationSummary> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 120) throw usageError('name: must be 1 to 120 characters');
  return ctx.db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ name: organisations.name })
      .from(organisations)
      .where(eq(organisations.code, input.code));
    if (existing) throw conflict(`${input.code} already exists (${existing.name})`);
    const [org] = await tx
      .insert(organisations)
      .values({ code: input.code, name, kind: input.kind })
      .onConflictDoNothing()
      .returning({
        id: organisations.id,
        code: organisations.code,
        name: organisations.name,
        kind: organisations.kind,
      });
    // A concurrent add of the same code wins the race: report it as the duplicate it is.
    if (!org) throw conflict(`${input.code} already exists`);
    await recordAudit(tx, {
      actor: actorOf(ctx),
      action: 'org.add',
      subject: `org:${org.code}`,
      detail: { name: org.name, kind: org.kind },
    });
    return org;
  });
}
