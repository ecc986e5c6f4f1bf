import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { refCounters } from '../db/schema/counters.js';
import { reusableStatement } from '../db/statement.js';

const takeRef = reusableStatement<{ value: number }>((on) =>
  on
    .insert(refCounters)
    .values({ prefix: sql.placeholder('prefix'), year: sql.placeholder('year'), value: 1 })
    .onConflictDoUpdate({
      target: [refCounters.prefix, refCounters.year],
      set: { value: sql`${refCounters.value} + 1` },
    })
    .returning({ value: refCounters.value }),
);

/** The next reference of a kind for a year, `FS-2027-3`, taken inside the caller's transaction. */
export async function nextRef(tx: Queryable, prefix: string, year: number): Promise<string> {
  const [row] = await takeRef(tx, { prefix, year });
  if (!row) throw new Error('reference counter returned nothing');
  return `${prefix}-${year}-${row.value}`;
}
