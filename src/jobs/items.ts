import { and, eq, sql } from 'drizzle-orm';
import type { Queryable, Transaction } from '../db/client.js';
import { scheduledItems } from '../db/schema/scheduled.js';
import { jsonRowsStatement, reusableStatement } from '../db/statement.js';

export type ScheduledItem = typeof scheduledItems.$inferSelect;

/** What a BullMQ job carries: nothing but the row and the generation it was made for. */
export interface ItemRef {
  id: number;
  generation: number;
  dueAt: Date;
}

export interface ScheduleInput {
  kind: string;
  subject: string;
  dueAt: Date;
  data?: Record<string, unknown>;
}

/**
 * Schedules (or reschedules) the item `(kind, subject)`, inside the caller's transaction. A
 * reschedule bumps the generation, so a job already queued for the old time does nothing. Enqueue
 * the returned ref after the transaction commits; the reconciler catches it if that never happens.
 */
// `id` is a bigserial: Postgres sends it as text.
const upsertItem = reusableStatement<{ id: string; generation: number }>((on) =>
  on
    .insert(scheduledItems)
    .values({
      kind: sql.placeholder('kind'),
      subject: sql.placeholder('subject'),
      dueAt: sql.placeholder('dueAt'),
      data: sql.placeholder('data'),
    })
    .onConflictDoUpdate({
      target: [scheduledItems.kind, scheduledItems.subject],
      set: {
        dueAt: sql`excluded.due_at`,
        data: sql`excluded.data`,
        status: 'pending',
        generation: sql`${scheduledItems.generation} + 1`,
        attempts: 0,
        lastError: null,
        firedAt: null,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: scheduledItems.id, generation: scheduledItems.generation }),
);

export async function scheduleItem(tx: Queryable, input: ScheduleInput): Promise<ItemRef> {
  const [row] = await upsertItem(tx, {
    kind: input.kind,
    subject: input.subject,
    dueAt: input.dueAt,
    data: input.data ?? {},
  });
  if (!row) throw new Error('scheduling returned no row');
  return { id: Number(row.id), generation: row.generation, dueAt: input.dueAt };
}

const upsertItems = jsonRowsStatement<{ id: string; generation: number }>(
  (rows) => sql`insert into scheduled_items (kind, subject, due_at, data)
    select kind, subject, due_at, data
    from jsonb_to_recordset(${rows}) as x(kind text, subject text, due_at timestamptz, data jsonb)
    on conflict (kind, subject) do update set
      due_at = excluded.due_at, data = excluded.data, status = 'pending',
      generation = scheduled_items.generation + 1, attempts = 0, last_error = null,
      fired_at = null, updated_at = now()
    returning id, generation`,
);

/** `scheduleItem` for many items in one statement (a fan-out's escalations), in input order. */
export async function scheduleItems(
  tx: Queryable,
  inputs: readonly ScheduleInput[],
): Promise<ItemRef[]> {
  const rows = await upsertItems(
    tx,
    inputs.map((i) => ({
      kind: i.kind,
      subject: i.subject,
      due_at: i.dueAt.toISOString(),
      data: i.data ?? {},
    })),
  );
  return rows.map((row, n) => ({
    id: Number(row.id),
    generation: row.generation,
    dueAt: (inputs[n] as ScheduleInput).dueAt,
  }));
}

/** Cancels pending items of a kind whose subject is `subject` or starts with `subject/`. */
export async function cancelItems(
  tx: Transaction | Queryable,
  kind: string,
  subject: string,
): Promise<number> {
  const rows = await tx
    .update(scheduledItems)
    .set({
      status: 'cancelled',
      generation: sql`${scheduledItems.generation} + 1`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(scheduledItems.kind, kind),
        eq(scheduledItems.status, 'pending'),
        sql`(${scheduledItems.subject} = ${subject} or starts_with(${scheduledItems.subject}, ${`${subject}/`}))`,
      ),
    )
    .returning({ id: scheduledItems.id });
  return rows.length;
}

/** BullMQ job ids may not contain `:`; this one names the row and its generation. */
export const jobIdOf = (ref: Pick<ItemRef, 'id' | 'generation'>) =>
  `item-${ref.id}-${ref.generation}`;
