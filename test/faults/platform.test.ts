import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, type RunnerTestCase } from 'vitest';
import type { RestCall } from '../fakes/discord/index.js';
import { reportFault, settle, tally } from './support/ledger.js';
import { alertEveryDelegation, scheduleSessions, token } from './support/workloads.js';
import { FaultWorld } from './support/world.js';

// The platforms misbehaving while Concord has work for them: both fakes answering 503 for a
// minute, both timing out for 20 s (the request takes effect, its answer comes after the client
// gave up), and both answering 429 for a minute, each while an early warning fans out to 10
// inboxes on each platform and forum reminders fall due. Nothing gets through during a 503 or a
// 429; once the platforms are well again, every message arrives exactly once. (The fakes' knobs:
// `failNext(…, { times: Infinity })` and `clearFailures`, `holdAfter` and `latencyMs`,
// `rateLimitAll`.)

const PER_PLATFORM = 10;
const SESSIONS = 3;
/** The Slack methods Concord posts and looks for earlier posts with. */
const SLACK_METHODS = [
  'chat.postMessage',
  'conversations.open',
  'conversations.history',
  'conversations.replies',
];
/** Discord's routes under a channel or a user (DMs): not the application's own. */
const onChannels = (call: RestCall) => /^\/(channels|users)\//.test(call.path);

let world: FaultWorld | undefined;
beforeAll(async () => {
  world = await FaultWorld.start({ perPlatform: PER_PLATFORM, forumChannels: SESSIONS });
});
afterAll(async () => {
  await world?.close();
});

interface PlatformFault {
  name: string;
  durationMs: number;
  /** How long after settling a late copy may still land (a held answer's retry). */
  graceMs: number;
  /** Whether posts take effect during the fault (a timeout), or nothing gets through. */
  lands: boolean;
  start(w: FaultWorld): void;
  end(w: FaultWorld): void;
}

/**
 * Schedules reminders due during the fault, starts the fault, sends the early warning, keeps the
 * fault up for its duration, ends it, and counts once everything has settled.
 */
async function underFault(task: Readonly<RunnerTestCase>, fault: PlatformFault) {
  const w = world as FaultWorld;
  const tag = token('pf');
  const sessions = await scheduleSessions(w, tag, { firstInS: 8, spreadS: 3, remind: [5] });
  const startedAt = Date.now();
  fault.start(w);
  const fan = await alertEveryDelegation(w, tag);
  await sleep(fault.durationMs - (Date.now() - startedAt));
  const duringFault = {
    cards: fan.reached(),
    reminders: sessions.expectations.length - tally(sessions.expectations).lost,
  };
  fault.end(w);
  const endedAt = Date.now();
  const all = [...sessions.expectations, ...fan.expectations];
  const settled = await settle(w, all, {
    since: endedAt,
    timeoutMs: 150_000,
    graceMs: fault.graceMs,
  });
  const t = tally(all);
  const items = await w.itemStates('forum.%');
  reportFault(
    task,
    {
      fault: fault.name,
      expected: t.expected,
      lost: t.lost,
      doubled: t.doubled,
      settledMs: settled.settledMs,
      notes: `${duringFault.cards}/${fan.expectations.length} cards and ${duringFault.reminders}/${sessions.expectations.length} reminders in before the fault ended; settled counted from its end; deliveries ${JSON.stringify(settled.deliveries)}; items ${JSON.stringify(items)}`,
    },
    t,
  );
  if (t.doubled > 0) explainDoubles(w, startedAt);
  // Nothing got through while it lasted, or (timeouts) it got through unbeknown to Concord.
  if (fault.lands) expect(duringFault.cards).toBeGreaterThan(0);
  else expect(duringFault.cards).toBe(0);
  expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
  expect(Object.keys(settled.deliveries)).toEqual(['sent']);
  expect(items.pending ?? 0).toBe(0);
  expect(w.concord.unexpectedExits).toEqual([]);
}

/** For a doubled message: every post of it the fakes saw, when, and how each was answered. */
function explainDoubles(w: FaultWorld, since: number) {
  const lines: string[] = [];
  for (const [channel, messages] of w.slack.state.messages) {
    const texts = messages
      .filter((m) => Number(m.ts) * 1000 >= since)
      .map((m) => m.text.split('\n')[0] ?? '');
    const twice = texts.find((t, i) => texts.indexOf(t) !== i);
    if (!twice || lines.length > 0) continue;
    const posts = w.slack
      .callsTo('chat.postMessage')
      .filter((c) => c.params.channel === channel && c.at >= since);
    lines.push(
      `slack ${channel} "${twice}": chat.postMessage at ${posts.map((c) => `+${c.at - since} ms (${c.status})`).join(', ')}`,
    );
  }
  const discordPosts = w.discord.calls.filter(
    (c) => c.route === 'POST /channels/{channel_id}/messages' && c.at >= since,
  );
  lines.push(
    `discord: ${discordPosts.length} message posts since the fault, answered ${[...new Set(discordPosts.map((c) => c.status))].join('/')}`,
  );
  console.log(lines.join('\n'));
}

describe('the platforms failing while Concord has work for them', () => {
  it('5xx from both platforms for a minute', async ({ task }) => {
    await underFault(task, {
      name: 'platforms answering 503 for 60 s',
      durationMs: 60_000,
      graceMs: 3_000,
      lands: false,
      start: (w) => {
        for (const method of SLACK_METHODS)
          w.slack.failNext(method, { status: 503, times: Number.POSITIVE_INFINITY });
        w.discord.failNext(onChannels, { status: 503, times: Number.POSITIVE_INFINITY });
      },
      end: (w) => {
        w.slack.clearFailures();
        w.discord.clearFailures();
      },
    });
  });

  it('both platforms timing out for 20 s: the post lands, its answer comes too late', async ({
    task,
  }) => {
    await underFault(task, {
      name: 'platforms timing out for 20 s',
      durationMs: 20_000,
      // A post held when the fault ended answers up to 20 s later; a retry it set off lands then.
      graceMs: 20_000,
      lands: true,
      start: (w) => {
        // Past the Slack WebClient's 15 s and discord.js's 10 s timeouts.
        for (const method of SLACK_METHODS) w.slack.holdAfter.set(method, 20_000);
        w.discord.latencyMs = 12_000;
      },
      end: (w) => {
        w.slack.holdAfter.clear();
        w.discord.latencyMs = 0;
      },
    });
  });

  it('429 from both platforms for a minute', async ({ task }) => {
    await underFault(task, {
      name: 'platforms answering 429 for 60 s',
      durationMs: 60_000,
      graceMs: 3_000,
      lands: false,
      start: (w) => {
        w.slack.rateLimitAll(60);
        w.discord.rateLimitAll(60);
      },
      end: () => {},
    });
  });
});
