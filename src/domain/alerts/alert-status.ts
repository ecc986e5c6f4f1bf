import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client.js';
import { alerts } from '../../db/schema/assistance.js';
import { forbidden, notFound } from '../../errors.js';
import type { Speaker } from '../directory/speaker.js';
import { routingStatus } from '../routing/cards.js';
import { loadAlertView } from '../routing/subject.js';

/**
 * `/alert status <ref>`: acknowledged and outstanding organisations. The sender's organisation
 * and admins see every one; an addressed organisation sees only its own line.
 */
export async function alertStatus(
  db: Database,
  speaker: Speaker,
  ref: string,
): Promise<{ ref: string; tlp: string; acknowledged: string[]; outstanding: string[] }> {
  const wanted = ref.toUpperCase();
  const [alert] = await db.select().from(alerts).where(eq(alerts.ref, wanted));
  if (!alert) throw notFound(`no early warning ${wanted}`);
  const view = await loadAlertView(db, alert);
  const orgCode = speaker.person?.org?.code ?? null;
  const everything = speaker.isAdmin || (orgCode !== null && orgCode === view.sender.orgCode);
  const visible = everything ? view.routings : view.routings.filter((r) => r.orgCode === orgCode);
  if (!everything && visible.length === 0) throw forbidden(`${wanted} is for its parties only`);
  const line = (r: (typeof visible)[number]) =>
    `${r.orgCode}: ${routingStatus(r)}${r.answeredAt ? ` at ${r.answeredAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}`;
  return {
    ref: wanted,
    tlp: alert.tlp,
    acknowledged: visible.filter((r) => r.status === 'acknowledged').map(line),
    outstanding: visible.filter((r) => r.status !== 'acknowledged').map(line),
  };
}
