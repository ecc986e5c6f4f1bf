import { randomBytes } from 'node:crypto';
import { like } from 'drizzle-orm';
import postgres from 'postgres';
import { ChatHub } from '../../src/chat/hub.js';
import { userRef } from '../../src/chat/refs.js';
import { type Database, openStorage } from '../../src/db/client.js';
import { scheduledItems } from '../../src/db/schema/index.js';
import { Jobs } from '../../src/jobs/jobs.js';
import type { ItemHandler } from '../../src/jobs/worker.js';
import { createLogger } from '../../src/log.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';
import { RecordingChat } from '../support/recording-chat.js';
import { latencyRow, machine, markdownTable, writeResult } from './report.js';

/** When each reminder (by title) reached the chat port. */
function arrivals(chat: RecordingChat): Map<string, number[]> {
  const byTitle = new Map<string, number[]>();
  for (const sent of chat.sent) {
    const key = sent.message.title ?? '';
    byTitle.set(key, [...(byTitle.get(key) ?? []), sent.at]);
  }
  return byTitle;
}

const remind: ItemHandler = async ({ item, deliver }) => {
  await deliver({
    key: `bench-${item.id}`,
    mode: 'direct',
    target: userRef('shell', `p${item.id}`),
    message: { title: item.subject },
  });
  return undefined;
};

async function runPhase(jobs: Jobs, chat: RecordingChat, db: Database, name: string, dues: Date[]) {
  const subjects = dues.map((_, i) => `${name}-${i}`);
  const due = new Map(subjects.map((s, i) => [s, dues[i]?.getTime() ?? 0]));
  const rows = [];
  for (let i = 0; i < dues.length; i += 1000) {
    rows.push(
      ...(await db
        .insert(scheduledItems)
        .values(
          subjects.slice(i, i + 1000).map((subject) => ({
            kind: 'bench.remind',
            subject,
            dueAt: new Date(due.get(subject) ?? 0),
          })),
        )
        .returning({
          id: scheduledItems.id,
          generation: scheduledItems.generation,
          dueAt: scheduledItems.dueAt,
        })),
    );
  }
  await jobs.scheduler.enqueue(rows);
  const last = Math.max(...dues.map((d) => d.getTime()));
  const deadline = last + 30_000;
  const allArrived = () => {
    const seen = new Set(chat.sent.map((m) => m.message.title));
    return subjects.every((s) => seen.has(s));
  };
  while (Date.now() < deadline && !allArrived()) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1_000)); // let any duplicate show itself
  const arrived = arrivals(chat);
  const lateness: number[] = [];
  let lost = 0;
  let doubled = 0;
  for (const s of subjects) {
    const times = arrived.get(s);
    if (!times) {
      lost++;
      continue;
    }
    if (times.length > 1) doubled += times.length - 1;
    lateness.push((times[0] ?? 0) - (due.get(s) ?? 0));
  }
  const fired = await db
    .select({ dueAt: scheduledItems.dueAt, firedAt: scheduledItems.firedAt })
    .from(scheduledItems)
    .where(like(scheduledItems.subject, `${name}-%`));
  const firing = fired
    .filter((f) => f.firedAt)
    .map((f) => (f.firedAt?.getTime() ?? 0) - f.dueAt.getTime());
  return {
    row: latencyRow(name, lateness),
    firing: latencyRow(`${name} (fired)`, firing),
    lost,
    doubled,
  };
}

export async function benchFollowups(): Promise<void> {
  const name = `concord_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const storage = await openStorage({ databaseUrl: databaseUrl(name) });
  const url = new URL(TEST_REDIS_URL);
  const chat = new RecordingChat();
  const hub = new ChatHub();
  hub.register(chat);
  const jobs = new Jobs({
    db: storage.db,
    connection: { host: url.hostname, port: Number(url.port || 6379) },
    prefix: `concord-bench-${process.pid}`,
    logger: createLogger('silent'),
    chat: hub,
    handlers: { 'bench.remind': remind },
  });
  try {
    jobs.startWorkers();
    await jobs.start();
    const spreadStart = Date.now() + 15_000;
    const spread = Array.from(
      { length: 10_000 },
      (_, i) => new Date(spreadStart + Math.floor((i * 60_000) / 10_000)),
    );
    console.log(
      'followups: 10,000 reminders due across one minute (starting in 15 s), then 1,000 due at one instant…',
    );
    const a = await runPhase(jobs, chat, storage.db, '10,000 across one minute', spread);
    const instant = new Date(Date.now() + 5_000);
    const b = await runPhase(
      jobs,
      chat,
      storage.db,
      '1,000 at the same instant',
      Array.from({ length: 1_000 }, () => instant),
    );
    const rows = [a, b].map((p) => ({
      case: p.row.case,
      n: p.row.n,
      'p50 ms': p.row.p50,
      'p99 ms': p.row.p99,
      'max ms': p.row.max,
      lost: p.lost,
      doubled: p.doubled,
    }));
    const m = machine();
    console.log(
      `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; one process, default worker concurrency\n`,
    );
    console.log(markdownTable(rows));
    console.log('\nof which, from due time to the firing transaction (scheduled_items.fired_at):');
    console.log(
      markdownTable(
        [a, b].map((p) => ({
          case: p.firing.case,
          'p50 ms': p.firing.p50,
          'p99 ms': p.firing.p99,
          'max ms': p.firing.max,
        })),
      ),
    );
    const met =
      a.row.p99 < 100 && b.row.max < 2000 && a.lost + b.lost + a.doubled + b.doubled === 0;
    console.log(
      `\nlateness = arrival at the chat port - due time. Targets (p99 < 100 ms across the minute, all 1,000 within 2 s, none lost or doubled): ${met ? 'met' : 'NOT met'}`,
    );
    const path = writeResult('followups', {
      benchmark: 'followups',
      machine: m,
      phases: [a, b],
      targetsMet: met,
      at: new Date().toISOString(),
    });
    console.log(`wrote ${path}`);
  } finally {
    await jobs.scheduler.queue.obliterate({ force: true }).catch(() => {});
    await jobs.deliveries.obliterate().catch(() => {});
    await jobs.close();
    await storage.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
