import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InteractionResult } from '../fakes/slack/index.js';
import type { Inbox } from '../support/early-warning-world.js';
import { type Expectation, reportFault, settle, tally } from './support/ledger.js';
import { until } from './support/ports.js';
import { token } from './support/workloads.js';
import { FaultWorld } from './support/world.js';

// Postgres restarted under a stream of slash commands (an early warning to one delegation every
// 250 ms, each card counted). Every command is answered once: before and after the outage with
// the warning's reference, during it with a one-line "cannot reach its database … try again"
// within Slack's 3 seconds, and that answer is true (nothing of the command happened). Once
// Postgres is back the bot recovers by itself: commands work again, promptly, without a restart.

const PER_PLATFORM = 3;
const EVERY_MS = 250;
const BEFORE_MS = 3_000;
const DOWN_MS = 6_000;
const AFTER_MS = 10_000;
/** Slack's deadline: what a person waits for before they see an error instead. */
const SLACK_DEADLINE_MS = 3_000;
/** Commands sent this long after Postgres is back must all work, each within the deadline. */
const RECOVERY_MS = 5_000;
const UNAVAILABLE = /cannot reach its database.*try again/;
const DONE = /✓ EW-\d+-\d+ sent to 1 organisation/;

let world: FaultWorld | undefined;
beforeAll(async () => {
  world = await FaultWorld.start({ perPlatform: PER_PLATFORM });
});
afterAll(async () => {
  await world?.close();
});

type Phase = 'before' | 'stopping' | 'down' | 'starting' | 'after';
interface Sent {
  needle: string;
  inbox: Inbox;
  phase: Phase;
  at: number;
  result?: InteractionResult;
  /** Concord did not take the request at all (its HTTP server was gone). */
  error?: string;
}

describe('Postgres restarted under a stream of commands', () => {
  it.for(['fast', 'immediate'] as const)(
    'pg_ctl stop -m %s, 6 s down, started again: every command answered in time, truthfully, once',
    async (mode, { task }) => {
      const w = world as FaultWorld;
      const tag = token('pg');
      const sent: Sent[] = [];
      let phase: Phase = 'before';
      let streaming = true;
      const inFlight: Promise<void>[] = [];
      const stream = (async () => {
        for (let n = 0; streaming; n++) {
          const inbox = w.inboxes[n % w.inboxes.length] as Inbox;
          const entry: Sent = { needle: `${tag}c${n}x`, inbox, phase, at: Date.now() };
          sent.push(entry);
          const text = `/alert Drill ${entry.needle} wiper seen at the border to:${inbox.org} severity:low`;
          inFlight.push(
            w.command(text).then(
              (r) => {
                entry.result = r;
              },
              (err: unknown) => {
                entry.error = String(err instanceof Error ? (err.cause ?? err) : err);
              },
            ),
          );
          await sleep(EVERY_MS);
        }
      })();

      await sleep(BEFORE_MS);
      phase = 'stopping';
      const stoppedAt = Date.now();
      await w.pg.stop({ mode });
      phase = 'down';
      await sleep(DOWN_MS);
      phase = 'starting';
      await w.pg.start();
      const backAt = Date.now();
      phase = 'after';
      await sleep(AFTER_MS);
      streaming = false;
      await stream;
      await Promise.all(inFlight);

      const answers = (s: Sent) => (s.result ? w.answersTo(s.result.triggerId) : []);
      const answer = (s: Sent) => String(answers(s)[0]?.body.text ?? '');
      const answerMs = (s: Sent) => {
        const first = answers(s)[0];
        return first ? first.at - s.at : Number.POSITIVE_INFINITY;
      };
      // Every command gets its answer (or is lost); then every warning that was sent arrives.
      await until(() => sent.every((s) => answer(s) !== ''), 30_000, 200);
      const done = sent.filter((s) => DONE.test(answer(s)));
      const refused = sent.filter((s) => UNAVAILABLE.test(answer(s)));
      const unanswered = sent.filter((s) => answer(s) === '');
      const otherwise = sent.filter(
        (s) => answer(s) !== '' && !done.includes(s) && !refused.includes(s),
      );
      const answeredTwice = sent.filter((s) => answers(s).length > 1);
      const cards = (s: Sent) => w.inboxCopies(s.inbox, s.needle);
      const expectations: Expectation[] = done.map((s) => ({
        label: `card ${s.needle} in ${s.inbox.org} (${s.inbox.platform}), sent ${s.phase}`,
        copies: () => cards(s),
      }));
      const settled = await settle(w, expectations, { since: backAt, timeoutMs: 180_000 });
      const t = tally(expectations);
      // "Nothing was changed": a command answered so left no warning behind.
      const untrue = refused.filter((s) => cards(s) > 0);
      const [rows] = await w.sql<{ n: number }[]>`
      select count(*)::int as n from alerts where text like ${`%${tag}c%`}`;

      const down = sent.filter((s) => s.phase === 'down');
      const slowDown = down.filter((s) => !refused.includes(s) || answerMs(s) > SLACK_DEADLINE_MS);
      const worstDownMs = Math.max(0, ...down.map(answerMs));
      const recovered = sent.filter((s) => s.at >= backAt + RECOVERY_MS);
      const notRecovered = recovered.filter(
        (s) => !done.includes(s) || answerMs(s) > SLACK_DEADLINE_MS,
      );
      const firstDoneAfter = Math.min(
        ...done.filter((s) => s.at >= backAt).map((s) => s.at + answerMs(s)),
      );
      const ackTimeouts = w.slack.ackTimeouts.filter((a) => a.at >= stoppedAt);
      const describe = (s: Sent) =>
        `${s.needle} sent ${s.phase} at ${s.at - stoppedAt} ms: ${s.error ?? `${answerMs(s)} ms "${answer(s).split('\n')[0]}"`}`;

      reportFault(
        task,
        {
          fault: `postgres restart (${mode}) under load`,
          expected: sent.length,
          lost: unanswered.length + t.lost,
          doubled: t.doubled + answeredTwice.length + untrue.length,
          settledMs: settled.settledMs,
          late: slowDown.length + notRecovered.length,
          notes: `${sent.length} commands: ${done.length} done, ${refused.length} "unavailable, try again", ${otherwise.length} other, ${unanswered.length} unanswered; worst answer while down ${worstDownMs} ms; first command done ${firstDoneAfter - backAt} ms after postgres was back; ${ackTimeouts.length} acks late`,
        },
        t,
      );
      if (slowDown.length || notRecovered.length || otherwise.length || process.env.FAULTS_DEBUG)
        console.log(sent.map(describe).join('\n'));

      expect(down.length).toBeGreaterThan(DOWN_MS / EVERY_MS / 2);
      expect(unanswered.map(describe)).toEqual([]);
      expect(otherwise.map(describe)).toEqual([]);
      expect(answeredTwice.map(describe)).toEqual([]);
      expect(ackTimeouts).toEqual([]);
      // While Postgres is down: "unavailable, try again", within Slack's deadline.
      expect(slowDown.map(describe)).toEqual([]);
      // Back up: everything works again by itself.
      expect(notRecovered.map(describe)).toEqual([]);
      expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
      expect(untrue.map(describe)).toEqual([]);
      expect(rows?.n).toBe(done.length);
      expect(Object.keys(settled.deliveries)).toEqual(['sent']);
      expect(await w.concord.healthy()).toBe(true);
      expect(w.concord.unexpectedExits).toEqual([]);
    },
  );
});
