import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { auditLog } from '../db/schema/audit.js';
import { reusableStatement } from '../db/statement.js';

export interface AuditEntry {
  /** Who did it: a user reference, or `import:<file>` for the directory import. */
  actor: string;
  /** `<area>.<verb>`, e.g. `org.add`, `poc.set`. */
  action: string;
  /** What it was done to, e.g. `org:EST`, `poc:EST/incident-response`, `person:kadri`. */
  subject: string;
  detail?: Record<string, unknown>;
}

// Most changes write one row: that statement is built once.
const insertOne = reusableStatement((on) =>
  on.insert(auditLog).values({
    actor: sql.placeholder('actor'),
    action: sql.placeholder('action'),
    subject: sql.placeholder('subject'),
    detail: sql.placeholder('detail'),
  }),
);

/** Call inside the transaction that makes the change, so the two land or fail together. */
export async function recordAudit(tx: Queryable, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const rows = Array.isArray(entry) ? entry : [entry];
  if (rows.length === 0) return;
  const [only] = rows;
  if (rows.length === 1 && only) {
    await insertOne(tx, { ...only, detail: only.detail ?? {} });
    return;
  }
  await tx.insert(auditLog).values(rows.map((r) => ({ ...r, detail: r.detail ?? {} })));
}
