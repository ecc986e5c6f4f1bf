import { asc, inArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { organisations } from '../../db/schema/organisations.js';
import { usageError } from '../../errors.js';
import { requireOrganisation } from '../directory/resolve.js';
import { type OrganisationSummary, organisationColumns } from '../directory/speaker.js';

/** Who a request or an alert is for, as `to:` says it. */
export type Addressees =
  | { kind: 'all' | 'industry' | 'delegations' }
  | { kind: 'named'; codes: readonly string[] };

const CODE = /^[A-Z0-9]{2,10}$/;

/** Reads `to:`: `all`, `industry`, `delegations`, or organisation codes separated by commas. */
export function parseAddressees(to: string | undefined, fallback: Addressees): Addressees {
  if (to === undefined) return fallback;
  const word = to.trim();
  if (word === 'all' || word === 'industry' || word === 'delegations') return { kind: word };
  const codes = [
    ...new Set(
      word
        .split(',')
        .map((c) => c.trim().toUpperCase())
        .filter(Boolean),
    ),
  ];
  const bad = codes.filter((c) => !CODE.test(c));
  if (codes.length === 0 || bad.length > 0) {
    throw usageError(
      `to: takes all, industry, delegations or organisation codes like EST,ACME${bad.length ? `; not ${bad.join(', ')}` : ''}`,
    );
  }
  return { kind: 'named', codes };
}

export const describeAddressees = (to: Addressees) =>
  to.kind === 'named' ? to.codes.join(',') : to.kind;

/**
 * The organisations addressed. Broad addressees leave out the sender's own organisation; named
 * ones are taken as given, and an unknown code is an error.
 */
export async function addressedOrganisations(
  db: Queryable,
  to: Addressees,
  senderOrgId: number | null,
): Promise<OrganisationSummary[]> {
  if (to.kind === 'named') {
    const found: OrganisationSummary[] = [];
    for (const code of to.codes) found.push(await requireOrganisation(db, code));
    return found;
  }
  const kinds =
    to.kind === 'industry'
      ? (['industry'] as const)
      : to.kind === 'delegations'
        ? (['delegation'] as const)
        : (['delegation', 'industry', 'organiser'] as const);
  const rows = await db
    .select(organisationColumns)
    .from(organisations)
    .where(inArray(organisations.kind, [...kinds]))
    .orderBy(asc(organisations.code));
  return senderOrgId === null ? rows : rows.filter((o) => o.id !== senderOrgId);
}
