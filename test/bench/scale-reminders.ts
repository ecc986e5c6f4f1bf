import type postgres from 'postgres';
import { openStorage } from '../../src/db/client.js';
import { STATUS_REMINDER } from '../../src/domain/incidents/severity.js';
import { scheduleItems } from '../../src/jobs/items.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/log.js';
import type { FakeSlack } from '../fakes/slack/index.js';
import { type LatencyRow, latencyRow } from './report.js';

/** Time to write and enqueue the reminders before the first is due. */
const LEAD_MS = 3_000;
/**
 * Slack's workspace limit as Concord's pacer keeps it (adapters/slack/chat.ts): 300 posts at once,
 * then one every 200 ms, shared by every instance. Reminders beyond the burst are posted, and so
 * fired, at that pace whatever the number of instances.
 */
const WORKSPACE_BURST = 299;
const WORKSPACE_INTERVAL_MS = 200;
/** The post's words (src/domain/incidents/reminders.ts), to tell it from the incident's card. */
const REMINDER_TEXT = 'no status update';

export interface RemindersOptions {
  fake: FakeSlack;
  databaseUrl: string;
  sql: postgres.Sql;
  /** The instances' Redis (`redis://…/12`), where their scheduler queue lives. */
  redisUrl: string;
  /** Every instance's HTTP port, for its /metrics. */
  ports: number[];
  count: number;
  /** The reminders fall due evenly across this many ms. */
  spreadMs: number;
  apiLatencyMs: number;
}

export interface RemindersResult {
  scheduled: number;
  /** Reminders each instance fired, from its `concord_scheduled_lateness_seconds_count`. */
  firedBy: number[];
  /** Due → the firing transaction (`scheduled_items.fired_at`). */
  fired: LatencyRow;
  /** Due → the reminder in its channel on the fake Slack. */
  posted: LatencyRow;
  /** Posts beyond one per reminder. */
  duplicates: number;
  /** Reminders never posted. */
  lost: number;
  /** Reminders whose row was never marked fired. */
  notFired: number;
}

/** How many status reminders the instance at `port` has fired, by its /metrics. */
async function firedOn(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const name = `concord_scheduled_lateness_seconds_count{kind="${STATUS_REMINDER}"}`;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/** When each reminder post arrived, by Slack channel id. */
function reminderPosts(fake: FakeSlack): Map<string, number[]> {
  const byChannel = new Map<string, number[]>();
  for (const call of fake.callsTo('chat.postMessage')) {
    if (call.status !== 200 || call.error || !String(call.params.text).includes(REMINDER_TEXT))
      continue;
    const channel = String(call.params.channel);
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), call.at]);
  }
  return byChannel;
}

/**
 * Reminders spread over the instances: the status reminders of `count` of the incidents the load
 * opened (each due in four hours) are rescheduled to fall due across `spreadMs`, through the
 * scheduler's own path (`scheduleItems`, a new generation, then a job on the instances' queue),
 * and whichever instance takes a job fires it and posts in the incident's channel. Each must be
 * posted exactly once.
 */
export async function runReminders(options: RemindersOptions): Promise<RemindersResult> {
  const { fake, sql } = options;
  const storage = await openStorage({ databaseUrl: options.databaseUrl });
  const redis = new URL(options.redisUrl);
  const scheduler = new Scheduler({
    db: storage.db,
    connection: {
      host: redis.hostname,
      port: Number(redis.port || 6379),
      db: Number(redis.pathname.slice(1) || 0),
    },
    // The queues' prefix in adapters/main.ts.
    prefix: 'concord',
    logger: createLogger('silent'),
  });
  try {
    const chosen = await sql<{ subject: string; data: Record<string, unknown>; channel: string }[]>`
      select s.subject, s.data, c.channel
      from scheduled_items s
      join incidents i on i.ref = s.subject
      join incident_channels c on c.incident_id = i.id and c.role = 'primary'
      where s.kind = ${STATUS_REMINDER} and s.status = 'pending' and c.channel is not null
      order by s.id
      limit ${options.count}`;
    if (chosen.length === 0) throw new Error('no incident with a pending status reminder');
    const before = await Promise.all(options.ports.map(firedOn));
    const start = Date.now() + LEAD_MS;
    const dues = chosen.map((_, i) => start + Math.floor((i * options.spreadMs) / chosen.length));
    const refs = await scheduleItems(
      storage.db,
      chosen.map((c, i) => ({
        kind: STATUS_REMINDER,
        subject: c.subject,
        dueAt: new Date(dues[i] ?? start),
        data: c.data,
      })),
    );
    await scheduler.enqueue(refs);

    // `slack:C0123ABC` → `C0123ABC`, as the post names it.
    const channels = chosen.map((c) => c.channel.slice(c.channel.indexOf(':') + 1));
    const paced = Math.max(0, chosen.length - WORKSPACE_BURST) * WORKSPACE_INTERVAL_MS;
    const deadline = start + options.spreadMs + paced + 30_000;
    while (Date.now() < deadline) {
      const posts = reminderPosts(fake);
      if (channels.every((c) => posts.has(c))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Let a second firing or post of any reminder show itself.
    await new Promise((r) => setTimeout(r, 2_000));

    const after = await Promise.all(options.ports.map(firedOn));
    const posts = reminderPosts(fake);
    const posted: number[] = [];
    let duplicates = 0;
    let lost = 0;
    for (const [i, channel] of channels.entries()) {
      const times = posts.get(channel) ?? [];
      if (times.length === 0) lost++;
      duplicates += Math.max(0, times.length - 1);
      const first = times[0];
      if (first !== undefined) posted.push(first + options.apiLatencyMs - (dues[i] ?? 0));
    }
    const due = new Map(chosen.map((c, i) => [c.subject, dues[i] ?? start]));
    const firedAt = await sql<{ subject: string; fired_at: Date | null }[]>`
      select subject, fired_at from scheduled_items
      where kind = ${STATUS_REMINDER} and subject in ${sql([...due.keys()])}`;
    const fired = firedAt.flatMap((row) =>
      row.fired_at ? [row.fired_at.getTime() - (due.get(row.subject) ?? 0)] : [],
    );
    return {
      scheduled: refs.length,
      firedBy: after.map((n, i) => n - (before[i] ?? 0)),
      fired: latencyRow('fired', fired),
      posted: latencyRow('posted', posted),
      duplicates,
      lost,
      notFired: refs.length - fired.length,
    };
  } finally {
    await scheduler.close();
    await storage.close();
  }
}
