import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import {
  type FakeDiscord,
  type FakeDiscordOptions,
  messagesIn,
  startFakeDiscord,
} from '../../fakes/discord/index.js';
import {
  type FakeChannel,
  type FakeResponsePost,
  type FakeSlack,
  type FakeSlackOptions,
  type FakeUser,
  type InteractionResult,
  startFakeSlack,
} from '../../fakes/slack/index.js';
import {
  addInboxes,
  type Inbox,
  seedEarlyWarningDirectory,
} from '../../support/early-warning-world.js';
import { PrivatePostgres } from '../../support/private-postgres.js';
import { PrivateRedis } from '../../support/private-redis.js';
import { ConcordProcess } from './concord.js';

export interface WorldOptions {
  /** Delegations with an early-warning inbox, per platform (alternating, as in the bench). */
  perPlatform: number;
  /** Slack channels to schedule forum sessions in, one session each. */
  forumChannels?: number;
  slack?: FakeSlackOptions;
  discord?: FakeDiscordOptions;
  /** Extra environment for Concord. */
  env?: Record<string, string>;
}

/**
 * Everything one fault file runs against: Concord as a real process on a Postgres and a Redis of
 * its own, both fakes, and a directory of an HQ organiser-delegate (`sender`, on Slack, in
 * `#hq-ops`), `perPlatform` early-warning inboxes on each platform, two more HQ people on Slack
 * (`participants`) and `forumChannels` Slack channels to schedule sessions in.
 */
export class FaultWorld {
  private db: postgres.Sql | undefined;

  private constructor(
    readonly dir: string,
    readonly pg: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly slack: FakeSlack,
    readonly discord: FakeDiscord,
    readonly concord: ConcordProcess,
    readonly sender: FakeUser,
    readonly ops: FakeChannel,
    readonly inboxes: readonly Inbox[],
    readonly participants: readonly FakeUser[],
    readonly forums: readonly FakeChannel[],
  ) {}

  static async start(options: WorldOptions): Promise<FaultWorld> {
    const dir = mkdtempSync(join(tmpdir(), 'concord-faults-'));
    const closers: (() => Promise<void>)[] = [];
    try {
      const [pg, redis, slack, discord] = await Promise.all([
        PrivatePostgres.create(),
        PrivateRedis.create(),
        startFakeSlack(options.slack),
        startFakeDiscord(options.discord),
      ]);
      closers.push(
        () => pg.destroy(),
        () => redis.destroy(),
        () => slack.close(),
        () => discord.close(),
      );
      const { sender, ops, inboxes } = addInboxes(slack, discord, options.perPlatform);
      await seedEarlyWarningDirectory(pg.url, sender.id, inboxes);
      const participants = [
        slack.addUser({ name: 'hq-participant-1' }),
        slack.addUser({ name: 'hq-participant-2' }),
      ];
      const forums = Array.from({ length: options.forumChannels ?? 0 }, (_, i) =>
        slack.addChannel({ name: `forum-${i + 1}`, members: [slack.botUserId, sender.id] }),
      );
      await seedOrganisers(pg.url, participants);
      const concord = await ConcordProcess.create(
        {
          DATABASE_URL: pg.url,
          REDIS_URL: redis.url,
          CONCORD_DATA_DIR: join(dir, 'data'),
          // The suite sends streams of commands as one person; the per-person limit is not a fault.
          CONCORD_COMMANDS_PER_MINUTE: '0',
          ...slack.concordEnv(),
          ...discord.concordEnv(),
          ...options.env,
        },
        dir,
      );
      closers.push(() => concord.kill());
      await concord.start();
      return new FaultWorld(
        dir,
        pg,
        redis,
        slack,
        discord,
        concord,
        sender,
        ops,
        inboxes,
        participants,
        forums,
      );
    } catch (err) {
      for (const close of closers.reverse()) await close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A connection to Concord's database, for reading rows (opened on first use). */
  get sql(): postgres.Sql {
    this.db ??= postgres(this.pg.url, {
      max: 2,
      onnotice: () => {},
      connect_timeout: 5,
      idle_timeout: 5,
    });
    return this.db;
  }

  /** The sender runs a slash command on Slack (in #hq-ops unless `channel` is given). */
  command(text: string, channel: FakeChannel = this.ops): Promise<InteractionResult> {
    const [command = '', ...rest] = text.split(' ');
    return this.slack.sendCommand(this.concord.eventsUrl, {
      command,
      text: rest.join(' '),
      user_id: this.sender.id,
      channel_id: channel.id,
    });
  }

  /** What Concord posted to a command's response_url, in order. */
  answersTo(triggerId: string): FakeResponsePost[] {
    return this.slack.responses.filter((r) => r.triggerId === triggerId);
  }

  /** Copies of the messages containing `needle` in a Slack conversation. */
  slackCopies(channel: string, needle: string): number {
    if (!channel) return 0;
    return this.slack.messagesIn(channel).filter((m) => m.text.includes(needle)).length;
  }

  /** Copies of the messages containing `needle` in a Discord channel (content or embeds). */
  discordCopies(channel: string, needle: string): number {
    return messagesIn(this.discord.state, channel).filter(
      (m) => m.content.includes(needle) || JSON.stringify(m.embeds).includes(needle),
    ).length;
  }

  /** Copies in an inbox of the message containing `needle`. */
  inboxCopies(inbox: Inbox, needle: string): number {
    return inbox.platform === 'slack'
      ? this.slackCopies(inbox.channel, needle)
      : this.discordCopies(inbox.channel, needle);
  }

  /** Deliveries by status: everything settled is `{ sent: n }`. */
  async deliveryStates(): Promise<Record<string, number>> {
    const rows = await this.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from deliveries group by status order by status`;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /**
   * Work Concord still owes, as the database has it: deliveries not yet sent (pending or
   * sending), scheduled items overdue and not fired, incidents whose channels are not ready.
   */
  async owed(): Promise<{ deliveries: number; overdue: number; incidents: number }> {
    const [row] = await this.sql<{ deliveries: number; overdue: number; incidents: number }[]>`
      select
        (select count(*) from deliveries where status in ('pending', 'sending'))::int as deliveries,
        (select count(*) from scheduled_items
          where status = 'pending' and due_at <= now())::int as overdue,
        (select count(*) from incidents where provision in ('pending', 'failed'))::int as incidents`;
    return row ?? { deliveries: 0, overdue: 0, incidents: 0 };
  }

  /** Scheduled items of the given kinds (`forum.%`) by status. */
  async itemStates(kindLike: string): Promise<Record<string, number>> {
    const rows = await this.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from scheduled_items
      where kind like ${kindLike} group by status order by status`;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async close(): Promise<void> {
    await this.concord.kill();
    await this.db?.end({ timeout: 1 }).catch(() => {});
    await this.slack.close();
    await this.discord.close();
    await this.redis.destroy();
    await this.pg.destroy();
    if (!process.env.CONCORD_FAULTS_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * HQ's sender becomes an organiser too (to schedule forum sessions), and two more HQ delegates on
 * Slack join as forum participants.
 */
async function seedOrganisers(url: string, participants: readonly FakeUser[]): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`update people set role = 'organiser' where handle = 'hq-sender'`;
    for (const p of participants) {
      const [person] = await sql<{ id: number }[]>`
        insert into people (handle, name, org_id, role)
        select ${p.name}, ${`HQ ${p.name}`}, id, 'delegate' from organisations where code = 'HQ'
        returning id`;
      if (!person) throw new Error('seeding a participant inserted nothing');
      await sql`insert into platform_identities (platform, external_id, person_id)
        values ('slack', ${p.id}, ${person.id})`;
    }
  } finally {
    await sql.end();
  }
}
