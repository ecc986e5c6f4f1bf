import { inArray } from 'drizzle-orm';
import { type ChatPlatform, type UserRef, userRef } from '../../chat/refs.js';
import type { Queryable } from '../../db/client.js';
import { people, platformIdentities } from '../../db/schema/people.js';

export interface Reachable {
  personId: number;
  handle: string;
  name: string;
  tz: string;
  /** Where a direct message reaches them; null when they have no account Concord can use. */
  user: UserRef | null;
}

/**
 * How to reach each person: on `preferred` when they are there (everyone is, in the shell, by
 * handle), otherwise on whichever platform they have (Slack first).
 */
export async function reachPeople(
  db: Queryable,
  personIds: readonly number[],
  preferred: ChatPlatform,
): Promise<Reachable[]> {
  if (personIds.length === 0) return [];
  const rows = await db
    .select({ id: people.id, handle: people.handle, name: people.name, tz: people.tz })
    .from(people)
    .where(inArray(people.id, [...personIds]));
  const identities = await db
    .select()
    .from(platformIdentities)
    .where(inArray(platformIdentities.personId, [...personIds]));
  return rows.map((p) => {
    const mine = identities.filter((i) => i.personId === p.id);
    const on = (platform: 'slack' | 'discord') => mine.find((i) => i.platform === platform);
    let user: UserRef | null = null;
    if (preferred === 'shell') user = userRef('shell', p.handle);
    else {
      const identity = on(preferred) ?? on('slack') ?? on('discord');
      if (identity) user = userRef(identity.platform, identity.externalId);
    }
    return { personId: p.id, handle: p.handle, name: p.name, tz: p.tz, user };
  });
}
