import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { startWorkerThread } from '../../src/worker-thread.js';
import { startFakeSlack } from '../fakes/slack/index.js';
import { databaseUrl, TEST_POSTGRES_URL, TEST_REDIS_URL } from '../support/env.js';
import {
  addIncidentWorkspace,
  commandIndex,
  openIncidentCommand,
  seedIncidentDirectory,
} from './incident-load.js';
import type { LoadJob, LoadResult } from './load-worker.js';
import { latencyRow, machine, markdownTable, percentile, writeResult } from './report.js';

const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const API_LATENCY_MS = 20;
const WARMUP_SECONDS = 3;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  explain: () => Promise<unknown> = async () => '',
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await explain())}`);
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return child;
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Open-loop load: one signed command every 1000/RATE ms for `seconds`, sent from a worker thread
 * (`load-worker.ts`) so that the fake Slack serving the bot on this thread does not delay the
 * clock. `prepare` gives the i-th command's form body, its response_url issued by the fake.
 */
function load(
  url: string,
  secret: string,
  prepare: (i: number) => string,
  seconds = SECONDS,
): Promise<LoadResult> {
  const bodies = Array.from({ length: RATE * seconds }, (_, i) => prepare(i));
  const worker = startWorkerThread(new URL('./load-worker.ts', import.meta.url).href, {
    workerData: { url, secret, bodies, rate: RATE } satisfies LoadJob,
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: LoadResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

/**
 * `npm run bench -- ack`: signed `/incident open` commands at 200/s for 20 s to Concord's
 * `/slack/events` (a real process, on Postgres and Redis, talking to the fake Slack whose every
 * answer takes 20 ms), then the same load on a bare Bolt app that only acks. Prints ack latency of
 * both and Concord's end to end time (command sent → channel created, members invited, card
 * pinned).
 */
export async function benchAck(): Promise<void> {
  const fake = await startFakeSlack({ rateLimits: false });
  fake.latencyMs = API_LATENCY_MS;
  const workspace = addIncidentWorkspace(fake);
  const { delegates, ops } = workspace;

  const dbName = `concord_bench_ack_${randomBytes(3).toString('hex')}`;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const redisDb = `${TEST_REDIS_URL.replace(/\/\d*$/, '')}/7`;
  const slackEnv = {
    ...fake.concordEnv(),
  };
  const concordPort = await freePort();
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const concord = start(
    [...profile, '--max-semi-space-size=64', '--import', 'tsx', 'adapters/main.ts'],
    {
      ...slackEnv,
      DATABASE_URL: databaseUrl(dbName),
      REDIS_URL: redisDb,
      PORT: String(concordPort),
      LOG_LEVEL: process.env.BENCH_LOG ?? 'error',
      // Twenty delegates sending 10 commands a second each: the capacity is measured, not the
      // per-person limit, which would refuse nearly all of them.
      CONCORD_COMMANDS_PER_MINUTE: '0',
    },
  );
  const rows: ReturnType<typeof latencyRow>[] = [];
  let concordAcks: number[] = [];
  let e2e: number[] = [];
  let concordFailures = 0;
  let warmupFailures = 0;
  let bareFailures = 0;
  let bareAcks: number[] = [];
  try {
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${concordPort}/healthz`)).ok,
      'Concord',
    );
    await seedIncidentDirectory(databaseUrl(dbName), workspace);

    const events = `http://127.0.0.1:${concordPort}/slack/events`;
    const explainStuck = async () => {
      const check = postgres(databaseUrl(dbName), { max: 1, onnotice: () => {} });
      try {
        return {
          pinned: fake.callsTo('pins.add').length,
          ackTimeouts: fake.ackTimeouts.length,
          answers: [
            ...new Set(
              fake.responses
                .map((r) => String(r.body.text).split('\n')[0] ?? '')
                .filter((t) => !t.includes('opened')),
            ),
          ].slice(0, 5),
          failedCalls: fake.calls.filter((c) => c.status !== 200 || c.error).length,
          incidents:
            await check`select provision, provision_error, count(*)::int as n from incidents group by 1, 2`,
        };
      } finally {
        await check.end();
      }
    };
    const command = (label: string) => openIncidentCommand(fake, workspace, label);
    // Warm-up (JIT, connection pools, prepared statements), not measured. A command the fake
    // gave up on (no ack in 3 s) is one Slack would have shown the user as failed: it is counted,
    // and no card is waited for.
    const warm = await load(events, fake.signingSecret, command('Warm'), WARMUP_SECONDS);
    warmupFailures = warm.failures;
    await waitFor(
      async () => fake.callsTo('pins.add').length >= warm.acks.length,
      'warm-up cards pinned',
      120_000,
      explainStuck,
    );
    const concordRun = await load(events, fake.signingSecret, command('Load'));
    concordAcks = concordRun.acks;
    concordFailures = concordRun.failures;
    const total = warm.acks.length + concordRun.acks.length;
    await waitFor(
      async () => fake.callsTo('pins.add').length >= total,
      'every card pinned',
      120_000,
      explainStuck,
    );
    e2e = fake.callsTo('pins.add').flatMap((call) => {
      const name = fake.state.channels.get(String(call.params.channel))?.name ?? '';
      const i = commandIndex(name, 'Load');
      const sent = i === undefined ? undefined : concordRun.sentAt[i];
      return sent === undefined ? [] : [call.at + API_LATENCY_MS - sent];
    });
  } finally {
    await stop(concord);
    await admin.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }

  const barePort = await freePort();
  const bare = start(['--import', 'tsx', 'test/bench/bare-bolt.ts'], {
    ...slackEnv,
    PORT: String(barePort),
  });
  try {
    const url = `http://127.0.0.1:${barePort}/slack/events`;
    await waitFor(async () => (await fetch(url, { method: 'POST' })).status > 0, 'bare Bolt');
    const bareCommand = (i: number) =>
      fake.prepareCommand({
        command: '/incident',
        text: `open Load ${i}`,
        user_id: delegates[0]?.id as string,
        channel_id: ops.id,
      }).body;
    await load(url, fake.signingSecret, bareCommand, WARMUP_SECONDS);
    const bareRun = await load(url, fake.signingSecret, bareCommand);
    bareAcks = bareRun.acks;
    bareFailures = bareRun.failures;
  } finally {
    await stop(bare);
    await fake.close();
  }

  rows.push(
    latencyRow('bare Bolt: ack', bareAcks),
    latencyRow('Concord: ack', concordAcks),
    latencyRow('Concord: end to end (channel, invites, pinned card)', e2e),
  );
  const sorted = [...e2e].sort((a, b) => a - b);
  const e2eP95 = Math.round(percentile(sorted, 95) * 10) / 10;
  const [bareRow, concordRow] = rows;
  const verdict = {
    ackWithin2xOfBare: (concordRow?.p99 ?? Infinity) <= 2 * (bareRow?.p99 ?? 0),
    ackP99Under50ms: (concordRow?.p99 ?? Infinity) < 50,
    e2eP95Under250ms: e2eP95 < 250,
  };
  const table = markdownTable(
    rows.map((r) => ({
      case: r.case,
      n: r.n,
      'p50 ms': r.p50,
      'p90 ms': r.p90,
      'p99 ms': r.p99,
      'max ms': r.max,
    })),
  );
  console.log(
    `\nack: ${RATE} signed /incident open per second for ${SECONDS} s; fake Slack answers in ${API_LATENCY_MS} ms`,
  );
  console.log(table);
  console.log(
    `end to end p95: ${e2eP95} ms; commands not acknowledged with 200 within 3 s: Concord ${concordFailures} (warm-up ${warmupFailures}), bare Bolt ${bareFailures}`,
  );
  console.log(`targets: ${JSON.stringify(verdict)}`);
  console.log(`machine: ${JSON.stringify(machine())}`);
  writeResult('ack', {
    rate: RATE,
    seconds: SECONDS,
    apiLatencyMs: API_LATENCY_MS,
    rows,
    e2eP95,
    concordFailures,
    warmupFailures,
    bareFailures,
    verdict,
    machine: machine(),
  });
}
