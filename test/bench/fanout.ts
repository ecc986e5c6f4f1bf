import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { DEFAULT_RATE_LIMITS as DISCORD_LIMITS } from '../fakes/discord/rate-limits.js';
import { DEFAULT_RATE_LIMITS as SLACK_LIMITS } from '../fakes/slack/rate-limits.js';
import {
  codeUnderTest,
  floorMs,
  printRuns,
  type RunResult,
  TARGET_DELTA_MS,
  TARGET_RATIO,
} from './fanout-report.js';
import { CardWatch, StallLog, tally, until } from './fanout-watch.js';
import { buildWorld, ConcordProcess, type FanoutWorld, type Recipient } from './fanout-world.js';
import { machine, writeResult } from './report.js';

const PER_PLATFORM = Number(process.env.BENCH_FANOUT ?? 200);
/** How long the two forced channels answer 429 in run B: longer than the whole run. */
const FORCE_SECONDS = Number(process.env.BENCH_FORCE_SECONDS ?? 8);
const RUN_TIMEOUT_MS = 60_000;
/** Run C waits this long after the restart for every card and every delivery row to settle. */
const RECOVERY_TIMEOUT_MS = Number(process.env.BENCH_RECOVERY_SECONDS ?? 240) * 1000;

interface Bench {
  world: FanoutWorld;
  concord: ConcordProcess;
  sql: postgres.Sql;
}

const on = (recipients: readonly Recipient[], platform: Recipient['platform']) =>
  recipients.filter((r) => r.platform === platform);
const round = (x: number, places = 0) => Math.round(x * 10 ** places) / 10 ** places;

/** `/alert` over the fake Slack, signed, as the HQ delegate; the alert's text carries a token. */
async function sendAlert(
  b: Bench,
  label: string,
  options: { to?: string; forced?: ReadonlySet<string> } = {},
) {
  const token = `fanout-${label.toLowerCase()}-${randomBytes(3).toString('hex')}`;
  const watch = new CardWatch(b.world, token, options.forced);
  const to = options.to ?? 'delegations';
  // The fakes run on this thread: a stall here would bunch requests at them, and a fake Discord
  // counting its one-second windows would then answer 429 for Concord's evenly paced posts.
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const stalls = new StallLog();
  const loopDelay = () => {
    loop.disable();
    return {
      maxMs: round(loop.max / 1e6, 1),
      p99Ms: round(loop.percentile(99) / 1e6, 1),
      stalls: stalls.stop(),
    };
  };
  const t0 = Date.now();
  const sent = await b.world.slack.sendCommand(b.concord.eventsUrl, {
    command: '/alert',
    text: `Drill ${token} wiper spreading through shared VPN appliances to:${to} tlp:amber severity:high`,
    user_id: b.world.sender.id,
    channel_id: b.world.ops.id,
  });
  if (sent.status !== 200 || sent.timedOut)
    throw new Error(`/alert was not acknowledged: ${sent.status}${sent.timedOut ? ' (3 s)' : ''}`);
  /** When the sender's confirmation came back through the response_url (ms after sending). */
  const replyMs = () => {
    const reply = b.world.slack.responses.find((r) => r.triggerId === sent.triggerId);
    return reply ? reply.at - t0 : null;
  };
  return { watch, t0, token, replyMs, loopDelay };
}

/** The alert's `EW-…` ref, from the database: the sender's reply may die with the process. */
async function refOf(b: Bench, token: string): Promise<string | null> {
  let ref: string | null = null;
  await until(
    async () => {
      const [row] = await b.sql<{ ref: string }[]>`
        select ref from alerts where text like ${`%${token}%`}`;
      ref = row?.ref ?? null;
      return ref !== null;
    },
    10_000,
    50,
  );
  return ref;
}

async function deliveryStatus(b: Bench, ref: string | null): Promise<Record<string, number>> {
  if (!ref) return {};
  const rows = await b.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from deliveries where key like ${`${ref}/%`} group by status`;
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * Waits until the fake Slack's workspace bucket is full again after the posts of the last run
 * (it refills evenly over a minute), so each run starts from the same limits.
 */
async function letSlackRefill(b: Bench, since: number) {
  const posts = b.world.slack.calls.filter(
    (c) => c.method === 'chat.postMessage' && c.status === 200 && c.at >= since,
  );
  const last = Math.max(since, ...posts.map((c) => c.at));
  const wait =
    last + (posts.length / SLACK_LIMITS.workspacePerMinute) * 60_000 + 1_000 - Date.now();
  if (wait <= 0) return;
  console.log(`  (waiting ${round(wait / 1000, 1)} s for Slack's workspace limit to refill)`);
  await sleep(wait);
}

function measure(
  watch: CardWatch,
  t0: number,
  measured: readonly Recipient[],
): Pick<RunResult, 'elapsedMs' | 'floorMs' | 'ratio' | 'slackLastMs' | 'discordLastMs'> &
  Record<'firstMs' | 'slackSpanMs' | 'discordSpanMs', number | null> & {
    arrivalsMs: Record<Recipient['platform'], number[]>;
  } {
  const since = (at: number | undefined) => (at === undefined ? null : at - t0);
  const elapsedMs = since(watch.lastFirstArrival(measured));
  const floor = floorMs(on(measured, 'slack').length, on(measured, 'discord').length);
  const firsts = (platform: Recipient['platform']) =>
    on(measured, platform).flatMap((r) => watch.arrivals.get(r.channel)?.slice(0, 1) ?? []);
  const span = (times: number[]) => (times.length ? Math.max(...times) - Math.min(...times) : null);
  const all = [...firsts('slack'), ...firsts('discord')];
  const offsets = (platform: Recipient['platform']) =>
    firsts(platform)
      .map((at) => at - t0)
      .sort((x, y) => x - y);
  return {
    arrivalsMs: { slack: offsets('slack'), discord: offsets('discord') },
    elapsedMs,
    floorMs: floor,
    ratio: elapsedMs === null ? null : round(elapsedMs / floor, 3),
    firstMs: all.length ? Math.min(...all) - t0 : null,
    slackLastMs: since(watch.lastFirstArrival(on(measured, 'slack'))),
    discordLastMs: since(watch.lastFirstArrival(on(measured, 'discord'))),
    slackSpanMs: span(firsts('slack')),
    discordSpanMs: span(firsts('discord')),
  };
}

/** From the first card to the last: the sending, without the alert's transaction before it. */
const sendingMs = (r: { elapsedMs: number | null; firstMs?: unknown }) =>
  r.elapsedMs === null || typeof r.firstMs !== 'number' ? null : r.elapsedMs - r.firstMs;

/** A: the alert to every delegation, nothing in the way. */
async function runClean(b: Bench): Promise<RunResult> {
  const all = b.world.recipients;
  const { watch, t0, token, replyMs, loopDelay } = await sendAlert(b, 'A');
  await watch.waitAll(all, RUN_TIMEOUT_MS);
  const ref = await refOf(b, token);
  await sleep(1_000); // a late duplicate shows itself
  watch.poll();
  return {
    run: 'A clean',
    ref,
    recipients: all.length,
    ...measure(watch, t0, all),
    rateLimited: watch.limited.length,
    ...tally(b.world, token, all),
    deliveries: await deliveryStatus(b, ref),
    limited: watch.limited,
    replyMs: replyMs(),
    benchLoopDelay: loopDelay(),
    startedAt: t0,
  };
}

/** B: one Slack and one Discord inbox answer 429 throughout; the other 398 must not notice. */
async function runForced(b: Bench, clean: RunResult): Promise<RunResult> {
  const all = b.world.recipients;
  // The first of each platform: the head of the queue, where a stall would hold up the most.
  const forced = [on(all, 'slack')[0], on(all, 'discord')[0]].filter(
    (r): r is Recipient => r !== undefined,
  );
  const forcedIds = new Set(forced.map((r) => r.channel));
  const others = all.filter((r) => !forcedIds.has(r.channel));
  for (const r of forced) {
    if (r.platform === 'slack') b.world.slack.rateLimitChannel(r.channel, FORCE_SECONDS);
    else b.world.discord.rateLimitChannel(r.channel, FORCE_SECONDS);
  }
  const { watch, t0, token, replyMs, loopDelay } = await sendAlert(b, 'B', { forced: forcedIds });
  await watch.waitAll(others, RUN_TIMEOUT_MS);
  const measured = measure(watch, t0, others);
  await watch.waitAll(forced, FORCE_SECONDS * 1000 + RUN_TIMEOUT_MS);
  const ref = await refOf(b, token);
  await sleep(1_000);
  watch.poll();
  const toForced = watch.limited.filter((l) => l.channel !== null && forcedIds.has(l.channel));
  const elsewhere = watch.limited.filter((l) => !toForced.includes(l));
  const forcedCards = forced.map((r) => {
    const first = watch.arrivals.get(r.channel)?.[0];
    return {
      org: r.org,
      platform: r.platform,
      arrivedMs: first === undefined ? null : first - t0,
      rateLimited: toForced.filter((l) => l.channel === r.channel).length,
    };
  });
  return {
    run: 'B one channel in 429',
    ref,
    recipients: others.length,
    ...measured,
    rateLimited: elsewhere.length,
    ...tally(b.world, token, all),
    deliveries: await deliveryStatus(b, ref),
    limited: watch.limited,
    deltaVsCleanMs:
      measured.elapsedMs === null || clean.elapsedMs === null
        ? null
        : measured.elapsedMs - clean.elapsedMs,
    // The same, first card → last: without the run-to-run jitter of the alert's transaction.
    sendingDeltaVsCleanMs:
      sendingMs(measured) === null || sendingMs(clean) === null
        ? null
        : (sendingMs(measured) as number) - (sendingMs(clean) as number),
    forcedSeconds: FORCE_SECONDS,
    forced: forcedCards,
    rateLimitedToForced: toForced.length,
    replyMs: replyMs(),
    benchLoopDelay: loopDelay(),
    startedAt: t0,
  };
}

/** C: SIGKILL once about half the cards are out, start again, wait for the rest. */
async function runKilled(b: Bench): Promise<RunResult> {
  const all = b.world.recipients;
  const { watch, t0, token, replyMs, loopDelay } = await sendAlert(b, 'C');
  await until(() => watch.delivered(all) >= Math.ceil(all.length / 2), RUN_TIMEOUT_MS, 2);
  const killedAt = Date.now();
  await b.concord.kill();
  const deliveredAtKill = watch.delivered(all);
  const ref = await refOf(b, token);
  const deliveriesAtKill = await deliveryStatus(b, ref);
  console.log(
    `  SIGKILL at ${killedAt - t0} ms with ${deliveredAtKill}/${all.length} cards out; rows ${JSON.stringify(deliveriesAtKill)}`,
  );
  await b.concord.start();
  const readyMs = Date.now() - killedAt;
  let settledMs: number | null = null;
  await until(
    async () => {
      if (watch.delivered(all) < all.length) return false;
      const rows = await deliveryStatus(b, ref);
      if ((rows.pending ?? 0) + (rows.sending ?? 0) > 0) return false;
      settledMs = Date.now() - killedAt;
      return true;
    },
    RECOVERY_TIMEOUT_MS,
    250,
  );
  await sleep(2_000);
  watch.poll();
  const last = watch.lastFirstArrival(all);
  // Posts the fakes accepted again for a channel that had the card: a double unless the platform
  // folded the repeat into the first (Discord's enforce_nonce); `doubled` counts the channels.
  const repeats = [...watch.arrivals.values()].flatMap((times) => times.slice(1));
  return {
    run: 'C SIGKILL halfway',
    ref,
    recipients: all.length,
    ...measure(watch, t0, all),
    rateLimited: watch.limited.length,
    ...tally(b.world, token, all),
    deliveries: await deliveryStatus(b, ref),
    limited: watch.limited,
    killedAtMs: killedAt - t0,
    deliveredAtKill,
    deliveriesAtKill,
    restartReadyMs: readyMs,
    recoveryMs: last === undefined ? null : last - killedAt,
    rowsSettledMs: settledMs,
    repeatPosts: repeats.length,
    repeatPostsAfterKillMs: repeats.map((at) => at - killedAt),
    replyMs: replyMs(),
    benchLoopDelay: loopDelay(),
    startedAt: t0,
  };
}

/**
 * `npm run bench -- fanout`: one `/alert … to:delegations tlp:amber` from Slack to 200 Slack and
 * 200 Discord inboxes, through Concord as a real process on Postgres and Redis, against the fake
 * Slack and Discord with their rate limits on. A: clean; B: one channel per platform forced into
 * 429; C: Concord SIGKILLed halfway and started again. Prints completion against the floor the
 * limits imply, 429s, and cards lost and doubled (counted in the channels), and writes
 * bench-results/fanout.json.
 */
export async function benchFanout(): Promise<void> {
  console.log(
    `fanout: /alert to ${PER_PLATFORM} Slack + ${PER_PLATFORM} Discord private inboxes (fakes with rate limits on; Concord a real process)`,
  );
  const world = await buildWorld(PER_PLATFORM);
  const concord = await ConcordProcess.create(world.env);
  const sql = postgres(world.databaseUrl, { max: 1, onnotice: () => {} });
  const b: Bench = { world, concord, sql };
  try {
    const bootStarted = Date.now();
    await concord.start();
    console.log(`  Concord ready in ${Date.now() - bootStarted} ms`);
    // Warm-up (JIT, pools, prepared statements) on two inboxes; not measured.
    const [s1, d1] = [on(world.recipients, 'slack')[0], on(world.recipients, 'discord')[0]];
    const warm = await sendAlert(b, 'warm', { to: `${s1?.org},${d1?.org}` });
    const warmed = [s1, d1].filter((r) => r !== undefined);
    if (!(await warm.watch.waitAll(warmed, 30_000))) {
      const ref = await refOf(b, warm.token);
      throw new Error(
        `the warm-up alert never arrived: ${JSON.stringify({
          reply: world.slack.responses.map((r) => r.body.text),
          ref,
          deliveries: await deliveryStatus(b, ref),
          limited: warm.watch.limited,
        })}`,
      );
    }
    // The fake Discord counts requests in fixed one-second windows; start from a fresh one.
    await sleep(1_100);

    console.log('  run A: clean');
    const a = await runClean(b);
    await letSlackRefill(b, a.startedAt as number);
    console.log(`  run B: one Slack and one Discord inbox answer 429 for ${FORCE_SECONDS} s`);
    const forced = await runForced(b, a);
    await letSlackRefill(b, forced.startedAt as number);
    console.log('  run C: SIGKILL halfway, then start again');
    const c = await runKilled(b);
    const runs = [a, forced, c];

    const code = codeUnderTest();
    const missed = printRuns(runs, code);
    const path = writeResult('fanout', {
      benchmark: 'fanout',
      perPlatform: PER_PLATFORM,
      forceSeconds: FORCE_SECONDS,
      limits: { slack: SLACK_LIMITS, discord: DISCORD_LIMITS },
      targets: {
        ratio: TARGET_RATIO,
        deltaMs: TARGET_DELTA_MS,
        rateLimited: 0,
        lost: 0,
        doubled: 0,
      },
      runs,
      missed,
      code,
      machine: machine(),
      at: new Date().toISOString(),
    });
    console.log(`wrote ${path}`);
  } finally {
    await concord.stop();
    await sql.end();
    await world.close();
  }
}
