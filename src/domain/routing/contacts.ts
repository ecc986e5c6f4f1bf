import { inArray } from 'drizzle-orm';
import { type ChatPlatform, type UserRef, userRef } from '../../chat/refs.js';
import type { Queryable } from '../../db/client.js';
import { orgInboxes } from '../../db/schema/organisations.js';
import { people, platformIdentities } from '../../db/schema/people.js';
import type { Contact, Inbox } from './destination.js';

/**
 * The platforms a routed card may use, best first: the sender's own, then Slack, then Discord,
 * keeping only those running. In the shell, everyone is reached there by handle.
 */
export function platformOrder(
  senderPlatform: ChatPlatform,
  running: readonly ChatPlatform[],
): ChatPlatform[] {
  if (senderPlatform === 'shell') return ['shell'];
  const order: ChatPlatform[] = [senderPlatform, 'slack', 'discord'];
  return [...new Set(order)].filter((p) => p !== 'shell' && running.includes(p));
}

/** Directory people as cards need them: name, and an account on the first platform of `order` they have. */
export async function contactsById(
  db: Queryable,
  personIds: readonly number[],
  /** The organisation each answers for: one code for all, or per person. */
  orgCode: string | ReadonlyMap<number, string>,
  order: readonly ChatPlatform[],
): Promise<Map<number, Contact>> {
  if (personIds.length === 0) return new Map();
  const rows = await db
    .select({ id: people.id, handle: people.handle, name: people.name })
    .from(people)
    .where(inArray(people.id, [...personIds]));
  const identities = await db
    .select()
    .from(platformIdentities)
    .where(inArray(platformIdentities.personId, [...personIds]));
  const found = new Map<number, Contact>();
  for (const p of rows) {
    let user: UserRef | null = null;
    for (const platform of order) {
      if (platform === 'shell') {
        user = userRef('shell', p.handle);
        break;
      }
      const identity = identities.find((i) => i.personId === p.id && i.platform === platform);
      if (identity) {
        user = userRef(platform, identity.externalId);
        break;
      }
    }
    const code = typeof orgCode === 'string' ? orgCode : (orgCode.get(p.id) ?? '');
    found.set(p.id, { personId: p.id, orgCode: code, name: p.name, user });
  }
  return found;
}

/** Each organisation's inbox on the first platform of `order` where it has one. */
export async function inboxesOf(
  db: Queryable,
  orgIds: readonly number[],
  order: readonly ChatPlatform[],
): Promise<Map<number, Inbox>> {
  const found = new Map<number, Inbox>();
  if (orgIds.length === 0) return found;
  const rows = await db
    .select()
    .from(orgInboxes)
    .where(inArray(orgInboxes.orgId, [...orgIds]));
  for (const orgId of orgIds) {
    for (const platform of order) {
      const row = rows.find((r) => r.orgId === orgId && r.platform === platform);
      if (row) {
        found.set(orgId, { channel: row.channel as Inbox['channel'], private: row.private });
        break;
      }
    }
  }
  return found;
}
