import { openStorage } from '../../src/db/client.js';
import {
  contacts,
  organisations,
  orgInboxes,
  people,
  platformIdentities,
} from '../../src/db/schema/index.js';
import { EARLY_WARNING } from '../../src/domain/alerts/send-alert.js';
import { addTextChannel, type FakeDiscord, PERMISSION_BITS } from '../fakes/discord/index.js';
import type { FakeSlack } from '../fakes/slack/index.js';

/** One delegation's early-warning contact and the private inbox its card must land in. */
export interface Inbox {
  org: string;
  platform: 'slack' | 'discord';
  /** The platform's channel id (`G00000042`, a snowflake). */
  channel: string;
  /** The contact's platform user id. */
  user: string;
}

/**
 * On the fakes: an HQ delegate on Slack with a channel to send from, and `perPlatform`
 * delegations on each platform, each with a contact only on that platform and a private inbox
 * there (Discord: hidden from @everyone, visible to the bot and the contact). Codes alternate
 * between the platforms (`D0001` Slack, `D0002` Discord, …).
 */
export function addInboxes(slack: FakeSlack, discord: FakeDiscord, perPlatform: number) {
  const sender = slack.addUser({ name: 'hq-sender' });
  const ops = slack.addChannel({ name: 'hq-ops', members: [slack.botUserId, sender.id] });
  const inboxes: Inbox[] = [];
  for (let i = 0; i < 2 * perPlatform; i++) {
    const org = `D${String(i + 1).padStart(4, '0')}`;
    const name = `ew-${org.toLowerCase()}`;
    if (i % 2 === 0) {
      const user = slack.addUser({ name });
      const channel = slack.addChannel({
        name: `inbox-${org.toLowerCase()}`,
        is_private: true,
        members: [slack.botUserId, user.id],
      });
      inboxes.push({ org, platform: 'slack', channel: channel.id, user: user.id });
    } else {
      const user = discord.addMember(name);
      const see = String(PERMISSION_BITS.VIEW_CHANNEL | PERMISSION_BITS.SEND_MESSAGES);
      const channel = addTextChannel(discord.state, `inbox-${org.toLowerCase()}`, {
        permission_overwrites: [
          {
            id: discord.guildId,
            type: 0,
            allow: '0',
            deny: String(PERMISSION_BITS.VIEW_CHANNEL),
          },
          { id: discord.botUserId, type: 1, allow: see, deny: '0' },
          { id: user.id, type: 1, allow: see, deny: '0' },
        ],
      });
      inboxes.push({ org, platform: 'discord', channel: channel.id, user: user.id });
    }
  }
  return { sender, ops, inboxes };
}

/**
 * The directory for `addInboxes` in the (migrated here) database at `url`: HQ and its delegate,
 * each delegation with its contact as the `early-warning` primary, and its inbox recorded as
 * `/org inbox` would have, the platform having said it is private.
 */
export async function seedEarlyWarningDirectory(
  url: string,
  senderSlackId: string,
  inboxes: readonly Inbox[],
): Promise<void> {
  const storage = await openStorage({ databaseUrl: url });
  try {
    const { db } = storage;
    const orgRows = await db
      .insert(organisations)
      .values([
        { code: 'HQ', name: 'Headquarters', kind: 'organiser' as const },
        ...inboxes.map((b) => ({
          code: b.org,
          name: `Delegation ${b.org}`,
          kind: 'delegation' as const,
        })),
      ])
      .returning({ id: organisations.id, code: organisations.code });
    const orgId = new Map(orgRows.map((o) => [o.code, o.id]));
    const personRows = await db
      .insert(people)
      .values([
        { handle: 'hq-sender', name: 'HQ Sender', orgId: orgId.get('HQ'), role: 'delegate' },
        ...inboxes.map((b) => ({
          handle: `ew-${b.org.toLowerCase()}`,
          name: `Contact ${b.org}`,
          orgId: orgId.get(b.org),
          role: 'delegate' as const,
        })),
      ])
      .returning({ id: people.id, handle: people.handle });
    const personId = new Map(personRows.map((p) => [p.handle, p.id]));
    const contactOf = (b: Inbox) => personId.get(`ew-${b.org.toLowerCase()}`) as number;
    await db.insert(platformIdentities).values([
      {
        platform: 'slack',
        externalId: senderSlackId,
        personId: personId.get('hq-sender') as number,
      },
      ...inboxes.map((b) => ({ platform: b.platform, externalId: b.user, personId: contactOf(b) })),
    ]);
    await db.insert(contacts).values(
      inboxes.map((b) => ({
        orgId: orgId.get(b.org) as number,
        capability: EARLY_WARNING,
        personId: contactOf(b),
        rank: 0,
      })),
    );
    await db.insert(orgInboxes).values(
      inboxes.map((b) => ({
        orgId: orgId.get(b.org) as number,
        platform: b.platform,
        channel: `${b.platform}:${b.channel}`,
        private: true,
      })),
    );
  } finally {
    await storage.close();
  }
}
