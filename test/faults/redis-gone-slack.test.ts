import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settle, tally } from './support/ledger.js';
import { until } from './support/ports.js';
import { scheduleCommand, sessionExpectations, token } from './support/workloads.js';
import { FaultWorld } from './support/world.js';

// Redis killed (SIGKILL) under a Slack-connected Concord: a slash command committed while it is
// gone is answered through response_url within Slack's 3 s, /healthz says 503 within a second,
// and once Redis is back the reminders it scheduled fire on time and once each, Slack's retry of
// the command doubling nothing; with Redis gone again, SIGTERM ends the process within 10 s.

let world: FaultWorld | undefined;
beforeAll(async () => {
  // info: the log says when Redis answers again and the reconciler runs.
  world = await FaultWorld.start({ perPlatform: 1, forumChannels: 1, env: { LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  await world?.close();
});

/**
 * Until Concord has finished starting: /healthz answers once the routes are up, and the last
 * steps of start-up (the first reconciler pass among them) come just after.
 */
const untilRunning = (w: FaultWorld) =>
  until(
    () =>
      readFileSync(w.concord.logFile, 'utf8').split('concord running on chat platforms').length -
        1 ===
      w.concord.starts,
    30_000,
  );

async function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const started = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  await res?.text();
  return { ms: Date.now() - started, status: res?.status ?? 0 };
}

describe('Redis killed under a Slack-connected Concord', () => {
  it('answers within 3 s and 503s within 1 s; back, reminders fire on time and once; SIGTERM within 10 s', async () => {
    const w = world as FaultWorld;
    const forum = w.forums[0];
    if (!forum) throw new Error('the world has no forum channel');
    const title = token('slackgone');
    const remind = [10] as const;
    expect(await untilRunning(w)).toBe(true);

    await w.redis.kill();
    const sent = await w.command(scheduleCommand(w, title, 20, remind), forum);
    const scheduledAt = Date.now();
    expect(sent.status).toBe(200);
    let answeredMs = -1;
    for (;;) {
      if (w.answersTo(sent.triggerId).length > 0) {
        answeredMs = Date.now() - scheduledAt;
        break;
      }
      if (Date.now() - scheduledAt > 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const answer = String(w.answersTo(sent.triggerId)[0]?.body.text ?? '');
    const health = await timedGet(`http://127.0.0.1:${w.concord.port}/healthz`);
    console.log(
      `redis gone, slack: /forum schedule answered in ${answeredMs} ms (${answer.slice(0, 40)}), /healthz ${health.ms} ms (${health.status})`,
    );
    expect(answeredMs).toBeGreaterThan(-1);
    expect(answeredMs).toBeLessThan(3_000);
    expect(answer).toContain('Scheduled');
    expect(health.status).toBe(503);
    expect(health.ms).toBeLessThan(1_000);

    await w.redis.start();
    const backAt = Date.now();
    // Slack's retry of the same command, as after a timeout: its key is claimed, nothing runs.
    const retried = await w.slack.sendCommand(
      w.concord.eventsUrl,
      {
        command: '/forum',
        text: scheduleCommand(w, title, 20, remind).slice('/forum '.length),
        user_id: w.sender.id,
        channel_id: forum.id,
        trigger_id: sent.triggerId,
      },
      { retryNum: 1 },
    );
    expect(retried.status).toBe(200);

    const expectations = sessionExpectations(w, title, forum, remind);
    const settled = await settle(w, expectations, { since: backAt, timeoutMs: 90_000 });
    const t = tally(expectations);
    const [sessions] = await w.sql<{ n: number }[]>`
      select count(*)::int as n from forum_sessions where title = ${title}`;
    console.log(
      `redis back: settled in ${settled.settledMs} ms, lost ${t.lost}, doubled ${t.doubled}, sessions ${sessions?.n}`,
    );
    expect({ lost: t.lost, doubled: t.doubled }).toEqual({ lost: 0, doubled: 0 });
    expect(sessions?.n).toBe(1);
    expect(w.answersTo(sent.triggerId)).toHaveLength(1);
    // Queued when Redis answered again, not at the reconciler's next minute: the reminder (due
    // 10 s after the command) and the start (20 s) came within seconds of their time.
    expect(settled.settledMs).not.toBeNull();
    expect(Date.now() - scheduledAt).toBeLessThan(45_000);

    await w.redis.kill();
    const stopMs = await w.concord.stop();
    console.log(`redis gone, slack: SIGTERM to exit ${stopMs} ms`);
    expect(stopMs).toBeLessThan(10_000);
    expect(w.concord.unexpectedExits).toEqual([]);
    // Read once the process is gone: its log is written asynchronously.
    expect(readFileSync(w.concord.logFile, 'utf8')).toContain('Redis answers again; reconciling');
  });

  it('with Postgres gone: answers within 3 s that nothing was changed, 503s within 1 s, and stops on SIGTERM within 10 s', async () => {
    const w = world as FaultWorld;
    await w.redis.start();
    if (!w.concord.running) await w.concord.start();
    expect(await untilRunning(w)).toBe(true);
    await w.pg.stop({ mode: 'immediate' });
    try {
      const sent = await w.command('/concord whoami');
      const sentAt = Date.now();
      let answeredMs = -1;
      while (Date.now() - sentAt < 10_000) {
        if (w.answersTo(sent.triggerId).length > 0) {
          answeredMs = Date.now() - sentAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const answer = String(w.answersTo(sent.triggerId)[0]?.body.text ?? '');
      const health = await timedGet(`http://127.0.0.1:${w.concord.port}/healthz`);
      const metrics = await timedGet(`http://127.0.0.1:${w.concord.port}/metrics`);
      const stopMs = await w.concord.stop();
      console.log(
        `postgres gone, slack: answered in ${answeredMs} ms (${answer.slice(0, 60)}), /healthz ${health.ms} ms (${health.status}), /metrics ${metrics.ms} ms, SIGTERM ${stopMs} ms`,
      );
      expect(answeredMs).toBeGreaterThan(-1);
      expect(answeredMs).toBeLessThan(3_000);
      expect(answer).toContain('cannot reach its database');
      expect(health.status).toBe(503);
      expect(health.ms).toBeLessThan(1_000);
      expect(metrics.status).toBe(200);
      expect(metrics.ms).toBeLessThan(1_000);
      expect(stopMs).toBeLessThan(10_000);
      expect(w.concord.unexpectedExits).toEqual([]);
    } finally {
      await w.pg.start();
    }
  });
});
