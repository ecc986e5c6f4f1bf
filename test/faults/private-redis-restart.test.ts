import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ConcordProcess } from './support/concord.js';
import { until } from './support/ports.js';
import { token } from './support/workloads.js';

// The private redis-server (REDIS_URL unset) killed with SIGKILL under a running shell: Concord
// starts it again on the same directory, says so once on the terminal and once in its log, and
// the jobs queued before the kill are still there (the AOF kept them), so the reminder they
// stand for fires, once.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => {});
});

const utc = (at: Date) => `${at.toISOString().slice(0, 19)}Z`;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The scheduled queue's jobs, by id, with the time each was added. */
async function scheduledJobs(socket: string): Promise<Record<string, string>> {
  const client = new Redis({ path: socket, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    const keys = (await client.keys('concord:concord-scheduled:item-*')).filter((k) =>
      /:item-\d+-\d+$/.test(k),
    );
    const jobs: Record<string, string> = {};
    for (const key of keys) jobs[key] = (await client.hget(key, 'timestamp')) ?? '';
    return jobs;
  } finally {
    client.disconnect();
  }
}

describe('the private redis-server killed under a running shell', () => {
  it('is started again on its data, said once, and a job queued before the kill still runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-faults-own-'));
    const dataDir = join(dir, 'data');
    const concord = await ConcordProcess.create({ CONCORD_DATA_DIR: dataDir }, dir, {
      shell: true,
    });
    cleanups.push(async () => {
      await concord.kill();
      const pidfile = join(dataDir, 'redis', 'redis.pid');
      if (existsSync(pidfile)) {
        const pid = Number(readFileSync(pidfile, 'utf8'));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    });
    await concord.start();
    const socket = join(dataDir, 'redis', 'redis.sock');
    const pidfile = join(dataDir, 'redis', 'redis.pid');
    for (const [line, answer] of [
      ['/org add FORUM name:"Forum Secretariat" kind:organiser', 'Added FORUM'],
      ['/org member @olga org:FORUM role:organiser name:"Olga" tz:UTC', 'Added @olga'],
      ['as @olga', 'now speaking as @olga'],
      ['in #forum', 'now in #forum'],
    ] as const) {
      expect(await concord.ask(line, answer)).toBeGreaterThan(-1);
    }
    const title = token('own');
    const startsAt = new Date(Date.now() + 35_000);
    expect(
      await concord.ask(`/forum schedule ${title} at:${utc(startsAt)} remind:20s`, 'Scheduled'),
    ).toBeGreaterThan(-1);
    // The reminder's job and the start's, in Redis; then past the AOF's once-a-second sync.
    expect(
      await until(async () => Object.keys(await scheduledJobs(socket)).length >= 2, 5_000),
    ).toBe(true);
    const before = await scheduledJobs(socket);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const killed = Number(readFileSync(pidfile, 'utf8'));
    const killedAt = Date.now();
    process.kill(killed, 'SIGKILL');
    const notice = 'private redis-server stopped (SIGKILL)';
    expect(await until(() => concord.printed(notice) > 0, 15_000, 20)).toBe(true);
    const restartMs = Date.now() - killedAt;
    const restarted = Number(readFileSync(pidfile, 'utf8'));
    expect(restarted).not.toBe(killed);
    expect(alive(restarted)).toBe(true);
    // The same jobs, added when they were before the kill: kept by the AOF, not added again.
    const after = await scheduledJobs(socket);
    for (const [key, addedAt] of Object.entries(before)) expect(after[key]).toBe(addedAt);

    const reminder = `starts in 20s: ${title}`;
    expect(await until(() => concord.printed(reminder) >= 2, 40_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The channel's copy and Olga's direct message, once each.
    expect(concord.printed(reminder)).toBe(2);
    expect(concord.printed(notice)).toBe(1);
    const logged = readFileSync(concord.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('died and was started again'));
    expect(logged).toHaveLength(1);
    console.log(`private redis-server SIGKILLed: answering again after ${restartMs} ms`);

    // Only the process that started it stops it, and it does on the way out.
    expect(await concord.stop()).toBeLessThan(10_000);
    expect(alive(restarted)).toBe(false);
    expect(concord.unexpectedExits).toEqual([]);
  });
});
