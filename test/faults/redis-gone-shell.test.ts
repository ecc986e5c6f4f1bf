import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PrivateRedis } from '../support/private-redis.js';
import { ConcordProcess } from './support/concord.js';
import { until } from './support/ports.js';
import { token } from './support/workloads.js';

// Redis killed (SIGKILL) under a running shell, as a new user found it: a command then waited a
// minute for Redis, the commands after it queued behind it, /metrics hung, and neither Ctrl-D
// nor SIGTERM ended the process. Concord here is the real process on a pipe, on PGlite in a
// data directory of its own, with REDIS_URL at a redis-server the test owns.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => {});
});

async function startShell(redis: PrivateRedis, dataDir: string, logDir: string) {
  const concord = await ConcordProcess.create(
    { REDIS_URL: redis.url, CONCORD_DATA_DIR: dataDir },
    logDir,
    { shell: true },
  );
  cleanups.push(() => concord.kill());
  await concord.start();
  return concord;
}

/** ms for a GET, and its status (0 when it gave no answer within 5 s). */
async function timedGet(url: string): Promise<{ ms: number; status: number; text: string }> {
  const started = Date.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  const text = res ? await res.text() : '';
  return { ms: Date.now() - started, status: res?.status ?? 0, text };
}

/** `YYYY-MM-DDTHH:MM:SSZ`, as `at:` takes it. */
const utc = (at: Date) => `${at.toISOString().slice(0, 19)}Z`;

async function world() {
  const dir = mkdtempSync(join(tmpdir(), 'concord-faults-gone-'));
  const redis = await PrivateRedis.create();
  cleanups.push(async () => {
    await redis.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, redis, dataDir: join(dir, 'data') };
}

const SETUP = [
  ['/org add FORUM name:"Forum Secretariat" kind:organiser', 'Added FORUM'],
  ['/org member @olga org:FORUM role:organiser name:"Olga" tz:UTC', 'Added @olga'],
  ['as @olga', 'now speaking as @olga'],
  ['in #forum', 'now in #forum'],
] as const;

describe('Redis killed under a running shell', () => {
  it('answers within 3 s, /healthz 503 and /metrics within 1 s, stops on SIGTERM within 10 s; a second run fires the reminder once and a retry doubles nothing', async () => {
    const { dir, redis, dataDir } = await world();
    const first = await startShell(redis, dataDir, dir);
    for (const [line, answer] of SETUP) expect(await first.ask(line, answer)).toBeGreaterThan(-1);

    await redis.kill();
    const title = token('gone');
    // Far enough ahead that the second run is up before the reminder is due.
    const startsAt = new Date(Date.now() + 100_000);
    const schedule = `/forum schedule ${title} at:${utc(startsAt)} remind:50s`;
    const scheduledMs = await first.ask(schedule, `Scheduled`);
    const listedMs = await first.ask('/org list', '1 organisation');
    const health = await timedGet(`http://127.0.0.1:${first.port}/healthz`);
    const metrics = await timedGet(`http://127.0.0.1:${first.port}/metrics`);
    const stopMs = await first.stop();
    console.log(
      `redis gone, shell: /forum schedule ${scheduledMs} ms, /org list ${listedMs} ms, /healthz ${health.ms} ms (${health.status}), /metrics ${metrics.ms} ms, SIGTERM ${stopMs} ms`,
    );
    expect(scheduledMs).toBeGreaterThan(-1);
    expect(scheduledMs).toBeLessThan(3_000);
    expect(listedMs).toBeGreaterThan(-1);
    expect(listedMs).toBeLessThan(3_000);
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toMatchObject({
      checks: { redis: { status: 'down' }, database: { status: 'ok' } },
    });
    expect(health.ms).toBeLessThan(1_000);
    expect(metrics.status).toBe(200);
    expect(metrics.ms).toBeLessThan(1_000);
    expect(metrics.text).toMatch(/concord_dependency_up\{dependency="redis"\} 0/);
    // A depth Redis did not give is left out, not made up.
    expect(metrics.text).not.toMatch(/^concord_queue_depth\{/m);
    expect(stopMs).toBeLessThan(10_000);
    expect(first.unexpectedExits).toEqual([]);

    // Redis back (the job of the session was never added: its add was abandoned), and a second
    // run on the same data: the reconciler at start queues the reminder, which fires once.
    await redis.start();
    const second = await startShell(redis, dataDir, dir);
    for (const [line, answer] of SETUP.slice(2))
      expect(await second.ask(line, answer)).toBeGreaterThan(-1);
    // The same command again (the one a person unsure of the first answer would send).
    expect(await second.ask(schedule, 'already scheduled')).toBeGreaterThan(-1);
    expect(await second.ask('/forum list', title)).toBeGreaterThan(-1);
    const reminder = `starts in 50s: ${title}`;
    // The channel's copy and Olga's direct message.
    const fired = await until(() => second.printed(reminder) >= 2, 60_000);
    expect(fired, `the second run printed:\n${second.output}\n${second.logTail()}`).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(first.printed(reminder)).toBe(0);
    expect(second.printed(reminder)).toBe(2);
    // One in the channel, one to Olga: two different recipients, not one twice.
    const copies = second.output.split('\n').filter((l) => l.includes(reminder));
    const recipients = copies.map((l) => l.slice(0, l.indexOf(reminder)).replace(/ #\d+\]/, ']'));
    expect(new Set(recipients).size, copies.join('\n')).toBe(2);
    expect(second.printed(`Scheduled FS-`)).toBe(0);
    expect(await second.ask('/forum list', title)).toBeGreaterThan(-1);
    const list = second.output.slice(second.output.lastIndexOf('/forum list'));
    expect(list.split(title).length - 1).toBe(1);
    expect(await second.stop()).toBeLessThan(10_000);
  });

  it('ends within 10 s at the end of its input with Redis gone', async () => {
    const { dir, redis, dataDir } = await world();
    const concord = await startShell(redis, dataDir, dir);
    for (const [line, answer] of SETUP) expect(await concord.ask(line, answer)).toBeGreaterThan(-1);
    await redis.kill();
    const answeredMs = await concord.ask(
      `/forum schedule ${token('eof')} at:+1m remind:30s`,
      'Scheduled',
    );
    const endMs = await concord.endInput();
    console.log(
      `redis gone, shell: answered in ${answeredMs} ms, end of input to exit ${endMs} ms`,
    );
    expect(answeredMs).toBeGreaterThan(-1);
    expect(answeredMs).toBeLessThan(3_000);
    expect(endMs).toBeLessThan(10_000);
  });
});
