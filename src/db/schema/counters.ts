import { integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

/** Per-year sequences behind human references: `FS-2027-3`, later `INC-…` and `AR-…`. */
export const refCounters = pgTable(
  'ref_counters',
  {
    prefix: text('prefix').notNull(),
    year: integer('year').notNull(),
    value: integer('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.prefix, t.year] })],
);
