import type postgres from 'postgres';
import { startWorkerThread } from '../../src/worker-thread.js';
import type { FakeCall, FakeSlack } from '../fakes/slack/index.js';
import { commandIndex, type IncidentWorkspace, openIncidentCommand } from './incident-load.js';
import { type LatencyRow, latencyRow } from './report.js';
import type { SpreadLoadJob, SpreadLoadResult } from './spread-load-worker.js';

const LABELS = ['Warm', 'Load'] as const;
type Label = (typeof LABELS)[number];
/** `Load:12`: one command of the run, across the database's titles and the fake's channel names. */
const keyOf = (label: Label, i: number) => `${label}:${i}`;

export interface AckLoadOptions {
  fake: FakeSlack;
  workspace: IncidentWorkspace;
  /** Every instance's `/slack/events`: the load balancer's pool. */
  urls: string[];
  /** The run's database, to count incidents. */
  sql: postgres.Sql;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** The fake's delay before every answer: a card is pinned when the pin's answer leaves. */
  apiLatencyMs: number;
  /** How long to wait, after the load, for the card of every acknowledged command. */
  settleMs: number;
}

export interface AckLoadResult {
  sent: number;
  acked: number;
  /** Commands of the measured run not answered 200 within Slack's 3 s. */
  failures: number;
  warmup: { sent: number; failures: number };
  /** Acknowledgements a second over the sending window. */
  ackPerSecond: number;
  /** Cards pinned a second, from the first command sent to the last card pinned. */
  cardsPerSecond: number;
  ack: LatencyRow;
  /** Command sent → its incident's card pinned (channel created, members invited). */
  e2e: LatencyRow;
  /** Extra incidents, created channels and pins beyond one per command (warm-up included). */
  duplicates: { incidents: number; channels: number; pins: number };
  /** Commands (warm-up included) with at least one incident, created channel and pinned card. */
  seen: { incidents: number; channels: number; pins: number };
  /** Acknowledged commands with no incident, or with one whose card was never pinned. */
  lost: { noIncident: number; noCard: number };
  /** Whether every acknowledged command's card was pinned within `settleMs`. */
  settled: boolean;
  /** When not settled: the incidents' provisioning states. */
  stuck?: unknown;
}

function spreadLoad(job: SpreadLoadJob): Promise<SpreadLoadResult> {
  const worker = startWorkerThread(new URL('./spread-load-worker.ts', import.meta.url).href, {
    workerData: job,
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (result: SpreadLoadResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

/** The command a channel name belongs to (`inc-2026-7-load-12`: `Load:12`). */
function commandOf(name: string): string | undefined {
  for (const label of LABELS) {
    const i = commandIndex(name, label);
    if (i !== undefined) return keyOf(label, i);
  }
  return undefined;
}

const succeeded = (call: FakeCall) => call.status === 200 && !call.error;

/** When each command's successful calls of `method` arrived, by command; `nameOf` finds its channel name. */
function callsByCommand(
  fake: FakeSlack,
  method: string,
  nameOf: (call: FakeCall) => string,
): Map<string, number[]> {
  const byCommand = new Map<string, number[]>();
  for (const call of fake.callsTo(method)) {
    if (!succeeded(call)) continue;
    const key = commandOf(nameOf(call));
    if (key) byCommand.set(key, [...(byCommand.get(key) ?? []), call.at]);
  }
  return byCommand;
}

const pinsByCommand = (fake: FakeSlack) =>
  callsByCommand(
    fake,
    'pins.add',
    (call) => fake.state.channels.get(String(call.params.channel))?.name ?? '',
  );

async function waitForCards(fake: FakeSlack, keys: readonly string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pinned = pinsByCommand(fake);
    if (keys.every((k) => pinned.has(k))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The `ack` benchmark's open-loop `/incident open` load, spread round-robin over the instances:
 * a warm-up (not measured), then `rate` a second for `seconds`. Then counts, per command, the
 * incidents in the database and the channels created and cards pinned on the fake Slack: each
 * must be exactly one for every acknowledged command.
 */
export async function runAckLoad(options: AckLoadOptions): Promise<AckLoadResult> {
  const { fake, workspace, urls, rate } = options;
  const acked = (result: SpreadLoadResult, label: Label) =>
    result.ackMs.flatMap((ms, i) => (ms === null ? [] : [keyOf(label, i)]));
  const load = (label: Label, seconds: number) => {
    const prepare = openIncidentCommand(fake, workspace, label);
    const bodies = Array.from({ length: Math.round(rate * seconds) }, (_, i) => prepare(i));
    return spreadLoad({ urls, secret: fake.signingSecret, bodies, rate });
  };

  const warm = await load('Warm', options.warmupSeconds);
  await waitForCards(fake, acked(warm, 'Warm'), options.settleMs);
  const run = await load('Load', options.seconds);
  const expected = [...acked(warm, 'Warm'), ...acked(run, 'Load')];
  const settled = await waitForCards(fake, expected, options.settleMs);
  // A command handled twice may pin its second card a little after the first.
  await new Promise((r) => setTimeout(r, 1_000));

  const pinned = pinsByCommand(fake);
  const created = callsByCommand(fake, 'conversations.create', (call) => String(call.params.name));
  const incidents = new Map<string, number>();
  for (const { title, n } of await options.sql<{ title: string; n: number }[]>`
      select title, count(*)::int as n from incidents group by title`) {
    const match = /^(Warm|Load) (\d+)$/.exec(title);
    if (match) incidents.set(keyOf(match[1] as Label, Number(match[2])), n);
  }
  const extra = (counts: Iterable<number>) =>
    [...counts].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
  const noIncident = expected.filter((k) => !incidents.has(k)).length;
  const noCard = expected.filter((k) => incidents.has(k) && !pinned.has(k)).length;

  const e2e: number[] = [];
  let lastPinned = Number.NEGATIVE_INFINITY;
  for (const [i, sent] of run.sentAt.entries()) {
    const first = pinned.get(keyOf('Load', i))?.[0];
    if (first === undefined) continue;
    e2e.push(first + options.apiLatencyMs - sent);
    lastPinned = Math.max(lastPinned, first + options.apiLatencyMs);
  }
  const firstSent = run.sentAt[0] ?? 0;
  const window = ((run.sentAt.at(-1) ?? firstSent) - firstSent) / 1000 + 1 / rate;
  const acks = run.ackMs.filter((ms): ms is number => ms !== null);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    sent: run.sentAt.length,
    acked: acks.length,
    failures: run.sentAt.length - acks.length,
    warmup: {
      sent: warm.sentAt.length,
      failures: warm.ackMs.filter((ms) => ms === null).length,
    },
    ackPerSecond: round(acks.length / window),
    cardsPerSecond: e2e.length > 0 ? round(e2e.length / ((lastPinned - firstSent) / 1000)) : 0,
    ack: latencyRow('ack', acks),
    e2e: latencyRow('end to end', e2e),
    duplicates: {
      incidents: extra(incidents.values()),
      channels: extra([...created.values()].map((at) => at.length)),
      pins: extra([...pinned.values()].map((at) => at.length)),
    },
    seen: { incidents: incidents.size, channels: created.size, pins: pinned.size },
    lost: { noIncident, noCard },
    settled,
    ...(settled
      ? {}
      : {
          stuck: await options.sql`
            select provision, provision_error, count(*)::int as n from incidents group by 1, 2`,
        }),
  };
}
