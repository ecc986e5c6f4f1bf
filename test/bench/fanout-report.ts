import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { DEFAULT_CLAIM_TIMEOUT_MS } from '../../src/jobs/deliveries.js';
import { DELIVERY_CONCURRENCY } from '../../src/jobs/delivery-worker.js';
import { DEFAULT_RATE_LIMITS as DISCORD_LIMITS } from '../fakes/discord/rate-limits.js';
import { DEFAULT_RATE_LIMITS as SLACK_LIMITS } from '../fakes/slack/rate-limits.js';
import type { RateLimited } from './fanout-watch.js';
import { machine, markdownTable } from './report.js';

type Stall = { endedAt: number; ms: number };

export const TARGET_RATIO = 1.15;
export const TARGET_DELTA_MS = 100;

/** One run's numbers, as printed and kept in the JSON. */
export interface RunResult {
  run: string;
  ref: string | null;
  recipients: number;
  /** Command sent → last first arrival among the measured recipients; null if one never got it. */
  elapsedMs: number | null;
  floorMs: number;
  ratio: number | null;
  slackLastMs: number | null;
  discordLastMs: number | null;
  /** 429s counted against the target (in run B: not to the forced channels). */
  rateLimited: number;
  lost: number;
  doubled: number;
  missing: string[];
  doubledAt: string[];
  /** Delivery rows of the alert by status at the end of the run. */
  deliveries: Record<string, number>;
  limited: RateLimited[];
  [extra: string]: unknown;
}

/**
 * The shortest time the fakes' limits allow for these posts, one per channel: Discord's global
 * requests per second; Slack's workspace bucket holds a minute's worth at once (the bench lets it
 * refill between runs), and one post per channel is within every channel's burst.
 */
export function floorMs(slackPosts: number, discordPosts: number): number {
  const discord = (discordPosts / DISCORD_LIMITS.globalPerSecond) * 1000;
  const beyondBurst = Math.max(0, slackPosts - SLACK_LIMITS.workspacePerMinute);
  const slack = (beyondBurst / SLACK_LIMITS.workspacePerMinute) * 60_000;
  return Math.round(Math.max(discord, slack));
}

/**
 * What was measured, for comparing runs while the delivery path changes: its settings and, per
 * folder on that path, one hash over its files.
 */
export function codeUnderTest() {
  const folders = [
    'src/jobs',
    'src/domain/routing',
    'src/domain/alerts',
    'adapters/slack',
    'adapters/discord',
  ];
  const root = new URL('../../', import.meta.url);
  const hashOf = (folder: string) => {
    const hash = createHash('sha256');
    for (const file of readdirSync(new URL(folder, root)).sort()) {
      hash.update(file).update(readFileSync(new URL(`${folder}/${file}`, root)));
    }
    return hash.digest('hex').slice(0, 12);
  };
  return {
    deliveryConcurrency: DELIVERY_CONCURRENCY,
    claimTimeoutMs: DEFAULT_CLAIM_TIMEOUT_MS,
    sha256: Object.fromEntries(folders.map((f) => [f, hashOf(f)])),
  };
}

const show = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x);

function notes(r: RunResult): string {
  if (r.run.startsWith('B')) {
    const forced = (r.forced as { org: string; platform: string; arrivedMs: number | null }[])
      .map((f) => `${f.platform} ${f.org} card at ${show(f.arrivedMs)} ms`)
      .join(', ');
    return `Δ vs A ${show(r.deltaVsCleanMs as number | null)} ms (first→last card: ${show(r.sendingDeltaVsCleanMs as number | null)} ms); forced: ${forced}; 429s to forced: ${r.rateLimitedToForced}`;
  }
  if (r.run.startsWith('C')) {
    return `killed at ${r.killedAtMs} ms (${r.deliveredAtKill} out); ready again ${r.restartReadyMs} ms after; all cards ${show(r.recoveryMs as number | null)} ms after kill, rows settled ${show(r.rowsSettledMs as number | null)} ms after; repeat posts accepted by the fakes: ${r.repeatPosts}`;
  }
  return '';
}

/**
 * The stall of the fakes' thread a Discord global window opened right after, if any: the fake
 * then counted together requests that had queued up while it was stalled (a real Discord, not
 * sharing a thread with a busy fake Slack, would have counted them as they came).
 */
function fakeStallBefore(l: RateLimited, r: RunResult): Stall | undefined {
  if (!l.window) return undefined;
  const opened = l.at - l.window.startedMsBefore;
  const stalls = (r.benchLoopDelay as { stalls: Stall[] } | undefined)?.stalls ?? [];
  return stalls.find((s) => opened >= s.endedAt && opened - s.endedAt <= 30);
}

function targetsMissed(a: RunResult, b: RunResult, c: RunResult): string[] {
  const missed: string[] = [];
  if (a.ratio === null || a.ratio > TARGET_RATIO)
    missed.push(
      `A: completion ${show(a.elapsedMs)} ms is not within ${TARGET_RATIO}x of the ${a.floorMs} ms floor`,
    );
  for (const r of [a, b, c]) {
    const run = r.run.split(' ')[0];
    const afterStall = r.limited.filter((l) => fakeStallBefore(l, r)).length;
    if (r.rateLimited > 0)
      missed.push(
        `${run}: ${r.rateLimited} 429s${run === 'B' ? ' outside the forced channels' : ''}${afterStall ? ` (${afterStall} in a window that opened as the fakes' thread came out of a stall: likely the bench's doing)` : ''}`,
      );
    if (r.lost > 0) missed.push(`${run}: ${r.lost} lost (${r.missing.slice(0, 10).join(', ')})`);
    if (r.doubled > 0)
      missed.push(`${run}: ${r.doubled} doubled (${r.doubledAt.slice(0, 10).join(', ')})`);
  }
  const delta = b.deltaVsCleanMs as number | null;
  if (delta === null || delta > TARGET_DELTA_MS)
    missed.push(
      `B: the other channels finished ${show(delta)} ms later than in A (target ≤ ${TARGET_DELTA_MS} ms)`,
    );
  for (const f of b.forced as { org: string; platform: string; arrivedMs: number | null }[]) {
    if (f.arrivedMs === null)
      missed.push(`B: forced ${f.platform} channel ${f.org} never got its card`);
  }
  return missed;
}

/** Prints the table, the legends and a line per target missed; returns those lines. */
export function printRuns(
  runs: readonly RunResult[],
  code: ReturnType<typeof codeUnderTest>,
): string[] {
  const m = machine();
  console.log(
    `\ndelivery worker slots per lane ${Object.entries(code.deliveryConcurrency)
      .map(([p, n]) => `${p} ${n}`)
      .join(', ')}, claim timeout ${code.claimTimeoutMs} ms`,
  );
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}; floor = Discord's ${DISCORD_LIMITS.globalPerSecond}/s for its posts (Slack's workspace bucket holds ${SLACK_LIMITS.workspacePerMinute} posts and is let refill between runs: its posts may all go at once)\n`,
  );
  console.log(
    markdownTable(
      runs.map((r) => ({
        run: r.run,
        cards: r.recipients,
        'elapsed ms': show(r.elapsedMs),
        'floor ms': r.floorMs,
        ratio: show(r.ratio),
        'first card ms': show(r.firstMs as number | null),
        'reply ms': show(r.replyMs as number | null),
        'Slack last ms': show(r.slackLastMs),
        'Discord last ms': show(r.discordLastMs),
        '429s': r.rateLimited,
        lost: r.lost,
        doubled: r.doubled,
        notes: notes(r),
      })),
    ),
  );
  console.log(
    "\nelapsed: command sent → the last card (of the cards measured) accepted by a fake; first card: → the first; reply: → the sender's confirmation (the alert committed and queued). B measures the channels not forced into 429; lost/doubled counted in the channels at the end.",
  );
  for (const r of runs) {
    const loop = r.benchLoopDelay as { maxMs: number; p99Ms: number; stalls: Stall[] };
    const start = r.startedAt as number;
    console.log(
      `${r.run}: bench process (the fakes) event-loop delay max ${loop.maxMs} ms, p99 ${loop.p99Ms} ms; stalls ≥ 25 ms at ${loop.stalls.map((s) => `${s.endedAt - start} (${s.ms})`).join(', ') || 'none'}`,
    );
    for (const l of r.limited) {
      const stall = fakeStallBefore(l, r);
      console.log(
        `  429 ${l.platform} ${l.call} channel ${l.channel} at ${l.at - start} ms${l.window ? `; global window opened ${l.window.startedMsBefore} ms before, ${l.window.admitted} admitted` : ''}${l.gapsBeforeMs ? `; gaps before it ${l.gapsBeforeMs.join(' ')} ms` : ''}${stall && l.window ? `; the window opened ${l.at - l.window.startedMsBefore - stall.endedAt} ms after a ${stall.ms} ms stall of the fakes' thread` : ''}`,
      );
    }
  }
  const [a, b, c] = runs as [RunResult, RunResult, RunResult];
  const missed = targetsMissed(a, b, c);
  for (const line of missed) console.log(`target missed: ${line}`);
  if (missed.length === 0) console.log('targets: all met');
  return missed;
}
