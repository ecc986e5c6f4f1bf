import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { startFakeSlack } from '../fakes/slack/index.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';
import { ConcordProcess } from './fanout-world.js';
import { addIncidentWorkspace, seedIncidentDirectory } from './incident-load.js';
import { machine, markdownTable, writeResult } from './report.js';
import { type AckLoadResult, runAckLoad } from './scale-acks.js';
import { type RemindersResult, runReminders } from './scale-reminders.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const RATE = env('BENCH_RATE', 200);
const SECONDS = env('BENCH_SECONDS', 20);
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2,3').split(',').map(Number);
/**
 * Within Slack's workspace burst (300 posts; see scale-reminders.ts), so that the reminders
 * measure the instances rather than Slack's 300-a-minute limit, which they share.
 */
const REMINDERS = env('BENCH_REMINDERS', 250);
const REMINDER_SECONDS = env('BENCH_REMINDER_SECONDS', 3);
const SETTLE_SECONDS = env('BENCH_SETTLE_SECONDS', 120);
const API_LATENCY_MS = 20;
// A Redis database of the bench's own (7 ack, 8 fanout, 9 and 11 tests), flushed before each run.
const REDIS_DB = 12;

interface ScaleRun {
  instances: number;
  acks: AckLoadResult;
  reminders: RemindersResult;
}

/**
 * One instance count: a fresh database, a flushed Redis and a fresh fake Slack; the instances
 * started one after another (the first migrates), all on them; the ack load across them, then the
 * reminders; SIGTERM to each.
 */
async function runWith(count: number): Promise<ScaleRun> {
  const fake = await startFakeSlack({ rateLimits: false });
  fake.latencyMs = API_LATENCY_MS;
  const workspace = addIncidentWorkspace(fake);
  const dbName = `concord_bench_scale_${count}_${randomBytes(3).toString('hex')}`;
  const url = databaseUrl(dbName);
  const redisUrl = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/${REDIS_DB}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const instances: ConcordProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const instance = await ConcordProcess.create({
        ...fake.concordEnv(),
        DATABASE_URL: url,
        REDIS_URL: redisUrl,
        LOG_LEVEL: process.env.BENCH_LOG ?? 'error',
        // Twenty delegates sending ten commands a second each: the capacity is measured, not the
        // per-person limit, which would refuse nearly all of them.
        CONCORD_COMMANDS_PER_MINUTE: '0',
      });
      instances.push(instance);
      await instance.start();
    }
    await seedIncidentDirectory(url, workspace);
    const acks = await runAckLoad({
      fake,
      workspace,
      urls: instances.map((p) => p.eventsUrl),
      sql,
      rate: RATE,
      seconds: SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      apiLatencyMs: API_LATENCY_MS,
      settleMs: SETTLE_SECONDS * 1000,
    });
    if (!acks.settled) {
      console.warn(`${count} instance(s): cards still missing: ${JSON.stringify(acks.stuck)}`);
    }
    const reminders = await runReminders({
      fake,
      databaseUrl: url,
      sql,
      redisUrl,
      ports: instances.map((p) => p.port),
      count: REMINDERS,
      spreadMs: REMINDER_SECONDS * 1000,
      apiLatencyMs: API_LATENCY_MS,
    });
    return { instances: count, acks, reminders };
  } finally {
    await Promise.all(instances.map((p) => p.stop()));
    await sql.end();
    await fake.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
}

const ms = (x: number) => Math.round(x);

function tableOf(runs: ScaleRun[]): string {
  return markdownTable(
    runs.map(({ instances, acks: a, reminders: r }) => ({
      instances,
      'acks/s': a.ackPerSecond,
      'ack p50 / p99 ms': `${ms(a.ack.p50)} / ${ms(a.ack.p99)}`,
      'e2e p50 / p99 ms': `${ms(a.e2e.p50)} / ${ms(a.e2e.p99)}`,
      'cards/s': a.cardsPerSecond,
      failures: a.failures,
      'duplicates (incidents/channels/pins)': `${a.duplicates.incidents}/${a.duplicates.channels}/${a.duplicates.pins}`,
      'lost (no incident/no card)': `${a.lost.noIncident}/${a.lost.noCard}`,
      'reminders fired per instance': r.firedBy.join(' / '),
      'reminder lateness p99 ms (fired / posted)': `${ms(r.fired.p99)} / ${ms(r.posted.p99)}`,
      'reminder duplicates': r.duplicates,
      'reminders lost': r.lost,
    })),
  );
}

/**
 * `npm run bench -- scale`: Concord on 1, 2 and 3 instances behind one Slack endpoint (the load
 * generator takes their ports in turn, as a load balancer would), on one Postgres and one Redis.
 * Each count gets the ack benchmark's `/incident open` load, then reminders falling due across a
 * few seconds. Prints throughput and latency per count, how the reminders spread over the
 * instances, and every duplicate or loss, which must all be zero.
 */
export async function benchScale(): Promise<void> {
  const runs: ScaleRun[] = [];
  for (const count of INSTANCES) {
    console.log(`scale: ${count} instance(s)…`);
    runs.push(await runWith(count));
  }
  console.log(
    `\nscale: ${RATE} signed /incident open per second for ${SECONDS} s (after ${WARMUP_SECONDS} s of warm-up), round-robin over the instances; fake Slack answers in ${API_LATENCY_MS} ms. Then ${REMINDERS} incident status reminders due across ${REMINDER_SECONDS} s.`,
  );
  console.log(tableOf(runs));
  const clean = runs.every(
    ({ acks: a, reminders: r }) =>
      a.settled &&
      a.duplicates.incidents + a.duplicates.channels + a.duplicates.pins === 0 &&
      a.lost.noIncident + a.lost.noCard === 0 &&
      r.duplicates + r.lost + r.notFired === 0,
  );
  console.log(
    `failures: commands not acknowledged with 200 within 3 s. e2e: command sent → card pinned. Reminder lateness: due → fired (the firing transaction) / due → posted in its channel. Duplicates and losses: ${clean ? 'none' : 'FOUND (see the JSON)'}.`,
  );
  console.log(`machine: ${JSON.stringify(machine())}`);
  const path = writeResult('scale', {
    rate: RATE,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    reminders: REMINDERS,
    reminderSeconds: REMINDER_SECONDS,
    apiLatencyMs: API_LATENCY_MS,
    runs,
    clean,
    machine: machine(),
    at: new Date().toISOString(),
  });
  console.log(`wrote ${path}`);
}
