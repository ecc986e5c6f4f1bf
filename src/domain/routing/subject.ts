import { asc, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../../db/client.js';
import { type alerts, type assistRequests, routings } from '../../db/schema/assistance.js';
import { incidents } from '../../db/schema/incidents.js';
import { organisations } from '../../db/schema/organisations.js';
import { people } from '../../db/schema/people.js';

export type AssistRequest = typeof assistRequests.$inferSelect;
export type Alert = typeof alerts.$inferSelect;
export type Routing = typeof routings.$inferSelect;

/** A routing with the names its cards show. */
export interface RoutingView extends Routing {
  orgCode: string;
  orgName: string;
  answeredByName: string | null;
}

/** Who sent a request or an alert, as cards name them. */
export interface Sender {
  name: string;
  orgCode: string | null;
}

/** A request with everything its cards show. */
export interface RequestView {
  kind: 'request';
  request: AssistRequest;
  requester: Sender;
  incidentRef: string | null;
  routings: RoutingView[];
}

/** An alert with everything its cards show. */
export interface AlertView {
  kind: 'alert';
  alert: Alert;
  sender: Sender;
  routings: RoutingView[];
}

async function sender(db: Queryable, personId: number): Promise<Sender> {
  const [row] = await db
    .select({ name: people.name, orgCode: organisations.code })
    .from(people)
    .leftJoin(organisations, eq(organisations.id, people.orgId))
    .where(eq(people.id, personId));
  return { name: row?.name ?? 'someone', orgCode: row?.orgCode ?? null };
}

async function routingViews(db: Queryable, where: ReturnType<typeof eq>): Promise<RoutingView[]> {
  const rows = await db
    .select({ routing: routings, orgCode: organisations.code, orgName: organisations.name })
    .from(routings)
    .innerJoin(organisations, eq(organisations.id, routings.orgId))
    .where(where)
    .orderBy(asc(organisations.code));
  const answerers = rows.map((r) => r.routing.answeredBy).filter((id): id is number => id !== null);
  const names = new Map(
    answerers.length
      ? (
          await db
            .select({ id: people.id, name: people.name })
            .from(people)
            .where(inArray(people.id, answerers))
        ).map((p) => [p.id, p.name])
      : [],
  );
  return rows.map((r) => ({
    ...r.routing,
    orgCode: r.orgCode,
    orgName: r.orgName,
    answeredByName:
      r.routing.answeredBy === null ? null : (names.get(r.routing.answeredBy) ?? null),
  }));
}

export async function loadRequestView(db: Queryable, request: AssistRequest): Promise<RequestView> {
  const [incident] = request.incidentId
    ? await db
        .select({ ref: incidents.ref })
        .from(incidents)
        .where(eq(incidents.id, request.incidentId))
    : [];
  return {
    kind: 'request',
    request,
    requester: await sender(db, request.requesterId),
    incidentRef: incident?.ref ?? null,
    routings: await routingViews(db, eq(routings.requestId, request.id)),
  };
}

export async function loadAlertView(db: Queryable, alert: Alert): Promise<AlertView> {
  return {
    kind: 'alert',
    alert,
    sender: await sender(db, alert.senderId),
    routings: await routingViews(db, eq(routings.alertId, alert.id)),
  };
}
