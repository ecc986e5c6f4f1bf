import type { Queryable } from '../db/client.js';
import { auditLog } from '../db/schema/audit.js';

export interface AuditEntry {
  /** Who did it: a user reference, or `import:<file>` for the directory import. */
  actor: string;
  /** `<area>.<verb>`, e.g. `org.add`, `poc.set`. */
  action: string;
  /** What it was done to, e.g. `org:EST`, `poc:EST/incident-response`, `person:kadri`. */
  subject: string;
  detail?: Record<string, unknown>;
}

/** Call inside the transaction that makes the change, so the two land or fail together. */
export async function recordAudit(tx: Queryable, entry: AuditEntry | AuditEntry[]): Promise<void> {
  const rows = Array.isArray(entry) ? entry : [entry];
  if (rows.length === 0) return;
  await tx.insert(auditLog).values(rows.map((r) => ({ ...r, detail: r.detail ?? {} })));
}
