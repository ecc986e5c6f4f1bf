import { eq } from 'drizzle-orm';
import { renderPlainText } from '../../../src/chat/message.js';
import { channelRef, type UserRef, userRef } from '../../../src/chat/refs.js';
import type { Core } from '../../../src/core.js';
import type { Database } from '../../../src/db/client.js';
import {
  alerts,
  assistRequests,
  forumActions,
  forumSessions,
  incidents,
  organisations,
  routings,
} from '../../../src/db/schema/index.js';

/** The bootstrap admin who builds the world (the stacks list it in `admins`). */
export const WORLD_ADMIN = userRef('shell', 'operator');

/** Where each seeded person speaks from: a Slack user id and a Discord user id, when given. */
export interface Identities {
  slack?: Record<string, string>;
  discord?: Record<string, string>;
}

/**
 * What the fuzz aims at: real references, so mutated commands and buttons point at things that
 * exist as often as at things that do not.
 */
export interface World {
  /** Org codes in the directory; `ZZZ` and others are not. */
  orgs: string[];
  /** Directory handles; the fuzz's member is `kadri`, a delegate of EST. */
  handles: string[];
  incidentRefs: string[];
  requestRefs: string[];
  alertRefs: string[];
  sessionRefs: string[];
  actionIds: number[];
  routingIds: number[];
  /**
   * People who may rightly answer a routing (a member of the organisation it went to): pressing
   * Accept there writes, so the fuzz has them press only buttons that are no real action.
   */
  answerers: { handle: string; routingId: number }[];
}

/** The directory member the fuzz speaks as: a delegate of EST, party to the seeded incident. */
export const MEMBER_HANDLE = 'kadri';
export const MEMBER_ORG = 'EST';

/**
 * A small, complete world made through the real commands: four organisations, a delegate, a
 * liaison and an organiser with their points of contact, an open incident, a request for
 * assistance, an early warning, a forum session with an action item. Every command must succeed.
 */
export async function seedWorld(core: Core, db: Database, ids: Identities = {}): Promise<World> {
  let seq = 0;
  const run = async (text: string, as: UserRef = WORLD_ADMIN) => {
    const reply = await core.runCommand({
      deliveryKey: `seed-${++seq}`,
      user: as,
      channel: channelRef('shell', '#seed'),
      text,
    });
    const shown = renderPlainText(reply.message);
    if (shown.startsWith('⚠') || shown.startsWith('Sorry'))
      throw new Error(`seeding "${text}" failed: ${shown}`);
    return shown;
  };
  const platformIds = (handle: string) =>
    [
      ids.slack?.[handle] ? `slack:${ids.slack[handle]}` : '',
      ids.discord?.[handle] ? `discord:${ids.discord[handle]}` : '',
    ]
      .filter(Boolean)
      .join(' ');

  await run('/org add EST name:"Estonia" kind:delegation');
  await run('/org add DEU name:"Germany" kind:delegation');
  await run('/org add ACME name:"Acme Security" kind:industry');
  await run('/org add SEC name:"Forum Secretariat" kind:organiser');
  const people: [string, string, string, string][] = [
    [MEMBER_HANDLE, MEMBER_ORG, 'delegate', 'Kadri Tamm'],
    ['jonas', 'DEU', 'delegate', 'Jonas Weber'],
    ['ann', 'ACME', 'liaison', 'Ann Lee'],
    ['otto', 'SEC', 'organiser', 'Otto Berg'],
  ];
  for (const [handle, org, role, name] of people) {
    await run(
      `/org member @${handle} org:${org} role:${role} name:"${name}" tz:Europe/Tallinn ${platformIds(handle)}`,
    );
  }
  for (const [who, org, capability] of [
    ['kadri', 'EST', 'incident-response'],
    ['kadri', 'EST', 'early-warning'],
    ['jonas', 'DEU', 'incident-response'],
    ['jonas', 'DEU', 'early-warning'],
    ['ann', 'ACME', 'forensics'],
  ]) {
    await run(`/poc set @${who} org:${org} capability:${capability}`);
  }
  const as = (handle: string) => userRef('shell', handle);
  await run('/incident open Ransomware at the port severity:high orgs:EST,DEU', as('kadri'));
  await run('/assist request Disk image triage capability:forensics to:ACME', as('jonas'));
  await run('/alert Phishing wave against ministries tlp:green', as('kadri'));
  await run('/forum schedule Annual forum at:+40d tz:Europe/Brussels', as('otto'));
  const [session] = await db.select({ ref: forumSessions.ref }).from(forumSessions);
  if (!session) throw new Error('no forum session seeded');
  const due = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10);
  await run(`/forum action ${session.ref} Send the minutes owner:@kadri due:${due}`, as('otto'));

  return {
    orgs: ['EST', 'DEU', 'ACME', 'SEC'],
    handles: people.map(([handle]) => handle),
    incidentRefs: (await db.select({ ref: incidents.ref }).from(incidents)).map((r) => r.ref),
    requestRefs: (await db.select({ ref: assistRequests.ref }).from(assistRequests)).map(
      (r) => r.ref,
    ),
    alertRefs: (await db.select({ ref: alerts.ref }).from(alerts)).map((r) => r.ref),
    sessionRefs: [session.ref],
    actionIds: (await db.select({ id: forumActions.id }).from(forumActions)).map((r) => r.id),
    routingIds: (await db.select({ id: routings.id }).from(routings)).map((r) => r.id),
    answerers: (
      await db
        .select({ routingId: routings.id, code: organisations.code })
        .from(routings)
        .innerJoin(organisations, eq(organisations.id, routings.orgId))
    ).flatMap(({ routingId, code }) =>
      people.filter(([, org]) => org === code).map(([handle]) => ({ handle, routingId })),
    ),
  };
}
