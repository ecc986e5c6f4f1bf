import { asc, eq, inArray } from 'drizzle-orm';
import { type ChatMessage, tlpLabel } from '../../chat/message.js';
import type { Queryable } from '../../db/client.js';
import { incidentTimeline } from '../../db/schema/incidents.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';
import type { IncidentView } from './load-incident.js';

interface PersonLabel {
  name: string;
  handle: string;
  org: string | null;
}

async function labelsOf(db: Queryable, ids: readonly number[]): Promise<Map<number, PersonLabel>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: people.id, name: people.name, handle: people.handle, org: organisations.code })
    .from(people)
    .leftJoin(organisations, eq(organisations.id, people.orgId))
    .where(inArray(people.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

const labelOf = (p: PersonLabel | undefined) =>
  p ? `${p.name} (@${p.handle}${p.org ? `, ${p.org}` : ''})` : 'someone no longer in the directory';

/** The pinned summary card, the same in every channel of the incident. */
export async function incidentCard(db: Queryable, view: IncidentView): Promise<ChatMessage> {
  const { incident } = view;
  // The opener and the lead are members (a lead must be invited first); a lookup covers anyone else.
  const labels = new Map<number, PersonLabel>(view.members.map((m) => [m.id, m]));
  const missing = [incident.openerId, incident.leadId ?? incident.openerId].filter(
    (id) => !labels.has(id),
  );
  for (const [id, label] of await labelsOf(db, missing)) labels.set(id, label);
  const fields = [
    { label: 'Severity', value: incident.severity },
    { label: 'Status', value: incident.status },
    { label: 'Lead', value: incident.leadId ? labelOf(labels.get(incident.leadId)) : 'none' },
    { label: 'Organisations', value: view.parties.map((p) => p.code).join(', ') || 'none' },
    { label: 'Opened by', value: labelOf(labels.get(incident.openerId)) },
    {
      label: 'Members',
      value: view.memberIds.map((id) => `@${labels.get(id)?.handle ?? id}`).join(', '),
    },
  ];
  if (incident.summary) fields.push({ label: 'Latest', value: incident.summary });
  return {
    tlp: incident.tlp,
    title: `${incident.ref} · ${incident.title}`,
    fields,
    footer:
      incident.status === 'closed'
        ? 'Closed: the timeline report follows; this channel is archived.'
        : '/incident update <text> · /incident status active|stable · /incident lead @user · /incident invite @user|org:<code> · /incident close [summary]',
  };
}

export interface TimelineLine {
  id: number;
  at: Date;
  kind: string;
  text: string;
  actor: string;
}

export async function loadTimeline(
  db: Queryable,
  incidentId: number,
  options: { after?: number } = {},
): Promise<TimelineLine[]> {
  const rows = await db
    .select({
      id: incidentTimeline.id,
      at: incidentTimeline.at,
      kind: incidentTimeline.kind,
      text: incidentTimeline.text,
      actorId: incidentTimeline.actorId,
    })
    .from(incidentTimeline)
    .where(eq(incidentTimeline.incidentId, incidentId))
    .orderBy(asc(incidentTimeline.at), asc(incidentTimeline.id));
  const fresh = rows.filter((r) => r.id > (options.after ?? 0));
  const labels = await labelsOf(
    db,
    fresh.flatMap((r) => (r.actorId ? [r.actorId] : [])),
  );
  return fresh.map((r) => ({
    id: r.id,
    at: r.at,
    kind: r.kind,
    text: r.text,
    actor: r.actorId ? labelOf(labels.get(r.actorId)) : 'Concord',
  }));
}

/** A timeline entry as announced in the incident's channels. */
export function announcement(view: IncidentView, line: TimelineLine): ChatMessage {
  return {
    tlp: view.incident.tlp,
    title: `${view.incident.ref} ${line.kind}`,
    body: `${line.actor}: ${line.text}`,
  };
}

/** `/incident report` and the close report: the whole timeline as Markdown, times in UTC. */
export async function incidentReport(db: Queryable, view: IncidentView): Promise<string> {
  const { incident } = view;
  const timeline = await loadTimeline(db, incident.id);
  const lead = incident.leadId
    ? (await labelsOf(db, [incident.leadId])).get(incident.leadId)
    : undefined;
  const utc = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ');
  const lines = [
    `# ${incident.ref}: ${incident.title}`,
    '',
    `${tlpLabel(incident.tlp)} · severity ${incident.severity} · status ${incident.status}`,
    `Organisations: ${view.parties.map((p) => p.code).join(', ') || 'none'} · Lead: ${lead ? labelOf(lead) : 'none'}`,
    `Opened ${utc(incident.createdAt)} UTC${incident.closedAt ? ` · closed ${utc(incident.closedAt)} UTC` : ''}`,
    '',
    '## Timeline (UTC)',
    '',
    ...timeline.map((t) => `- ${utc(t.at)} · ${t.actor} · ${t.kind}: ${t.text}`),
  ];
  return lines.join('\n');
}
